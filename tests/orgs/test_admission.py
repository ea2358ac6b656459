"""admit: the one act every way in shares (orgs/admission.py)."""
import pytest

from invites.activity.models import Activity
from invites.extensions import db
from invites.groups.models import GroupMember
from invites.groups.service import create_group
from invites.orgs.admission import NothingToAdmit, admit
from invites.orgs.models import Membership, Role


def describe(admission):
    return f"joined={admission.joined} groups={[g.name for g in admission.groups]}"


def test_a_newcomer_gets_the_role_the_groups_and_one_activity_line(team, make_user):
    group = create_group(team.org, team.owner, "Cohort A")
    person = make_user(name="Nia Newcomer")
    admission = admit(team.org, person, Role.COLLABORATOR, [group], verb="test.admitted", describe=describe)
    db.session.commit()
    assert admission.joined and admission.membership.role == Role.COLLABORATOR
    assert db.session.get(GroupMember, (group.id, person.id)) is not None
    [line] = db.session.scalars(db.select(Activity).filter_by(verb="test.admitted")).all()
    assert line.actor_id == person.id and line.summary == "joined=True groups=['Cohort A']"


def test_a_member_keeps_their_role_and_gets_only_the_missing_groups(team):
    had, new = create_group(team.org, team.owner, "Had"), create_group(team.org, team.owner, "New")
    db.session.add(GroupMember(group_id=had.id, user_id=team.manager.id))
    db.session.commit()
    admission = admit(team.org, team.manager, Role.MEMBER, [had, new], verb="test.admitted",
                      describe=describe, actor=team.owner)
    db.session.commit()
    assert not admission.joined and [g.name for g in admission.groups] == ["New"]
    membership = db.session.scalar(db.select(Membership).filter_by(org_id=team.org.id, user_id=team.manager.id))
    assert membership.role == Role.MANAGER  # never lowered (nor raised) by being let in
    assert db.session.scalar(db.select(Activity).filter_by(verb="test.admitted")).actor_id == team.owner.id


def test_refuse_unchanged_changes_nothing_for_someone_already_in(team):
    with pytest.raises(NothingToAdmit) as refused:
        admit(team.org, team.member, Role.MEMBER, [], verb="test.admitted", describe=describe,
              refuse_unchanged=True)
    assert refused.value.code == "member"
    db.session.commit()
    assert db.session.scalar(db.select(Activity).filter_by(verb="test.admitted")) is None
