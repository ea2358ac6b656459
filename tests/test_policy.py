"""The policy's answers for every role on every action (SPEC F3–F5)."""
import pytest

from invites import policy
from invites.extensions import db
from invites.groups.models import GroupMember
from invites.groups.service import create_group
from invites.orgs.models import Role

OWNER, MANAGER, MEMBER, COLLAB, NONE = "owner", "manager", "member", "collaborator", "outsider"
ACTORS = (OWNER, MANAGER, MEMBER, COLLAB, NONE)

# action -> the actors allowed, with default settings (managers may add people, members not).
EXPECTED = {
    "org.view": {OWNER, MANAGER, MEMBER, COLLAB},
    "org.manage": {OWNER, MANAGER},
    "org.leave": {OWNER, MANAGER, MEMBER, COLLAB},
    "members.view": {OWNER, MANAGER},
    "members.change_role": {OWNER},
    "members.remove": {OWNER},
    "members.change_access": {OWNER},
    "groups.view": {OWNER, MANAGER, MEMBER, COLLAB},
    "groups.manage": {OWNER, MANAGER},
    "people.add_new": {OWNER, MANAGER},
    "people.invite": {OWNER, MANAGER},
    "settings.edit": {OWNER},
    "activity.view": {OWNER},
    "api_tokens.manage": {OWNER},
    "webhooks.manage": {OWNER},
    "invitations.manage": {OWNER, MANAGER},
    "links.manage": {OWNER, MANAGER},
    "links.edit": {OWNER, MANAGER},
    "links.create": {OWNER, MANAGER},  # and members for the groups they are in (tests/links/test_member_links.py)
    "join_requests.manage": {OWNER, MANAGER},
    "join_page.manage": {OWNER},
    "imports.manage": {OWNER, MANAGER},
}


def actor(team, name):
    return {
        OWNER: team.owner, MANAGER: team.manager, MEMBER: team.member,
        COLLAB: team.collaborator, NONE: team.outsider,
    }[name]


def test_every_policy_action_has_an_expectation():
    assert set(EXPECTED) | {"groups.invite"} == set(policy.RULES)


@pytest.mark.parametrize("action", sorted(EXPECTED))
def test_answers_with_default_settings(team, action):
    answers = {name: policy.can(actor(team, name), action, team.org) for name in ACTORS}
    assert {name for name, allowed in answers.items() if allowed} == EXPECTED[action]


def test_members_switch_extends_add_new_people_to_members(team):
    team.org.members_may_add_people = True
    team.org.managers_may_add_people = False
    db.session.commit()
    allowed = {n for n in ACTORS if policy.can(actor(team, n), "people.add_new", team.org)}
    assert allowed == {OWNER, MEMBER}


def test_owners_may_always_add_new_people(team):
    team.org.managers_may_add_people = False
    team.org.members_may_add_people = False
    db.session.commit()
    allowed = {n for n in ACTORS if policy.can(actor(team, n), "people.add_new", team.org)}
    assert allowed == {OWNER}


def test_group_managers_may_invite_into_their_group_only(team):
    mine = create_group(team.org, team.owner, "Mine")
    other = create_group(team.org, team.owner, "Other")
    db.session.add(GroupMember(group_id=mine.id, user_id=team.member.id, is_manager=True))
    db.session.add(GroupMember(group_id=other.id, user_id=team.collaborator.id, is_manager=True))
    db.session.commit()
    assert policy.can(team.member, "groups.invite", team.org, mine)
    assert not policy.can(team.member, "groups.invite", team.org, other)
    assert policy.can(team.member, "people.invite", team.org)  # may open the invite form
    assert not policy.can(team.member, "people.add_new", team.org)  # but not for newcomers
    # Collaborators invite no one, even as a group's manager.
    assert not policy.can(team.collaborator, "groups.invite", team.org, other)
    assert policy.can(team.manager, "groups.invite", team.org, other)
    assert not policy.can(team.outsider, "groups.invite", team.org, mine)


def test_roles_one_may_grant_are_never_above_ones_own(team):
    assert policy.assignable_roles(team.owner, team.org) == list(Role.ALL)
    assert policy.assignable_roles(team.manager, team.org) == [Role.MANAGER, Role.MEMBER, Role.COLLABORATOR]
    assert policy.assignable_roles(team.member, team.org) == [Role.MEMBER, Role.COLLABORATOR]
    assert policy.assignable_roles(team.collaborator, team.org) == []
    assert policy.assignable_roles(team.outsider, team.org) == []


def test_another_organizations_owner_has_no_say_here(team, make_org, make_user):
    stranger = make_user(name="Stranger Owner")
    make_org(owner=stranger, name="Elsewhere")
    assert not any(policy.can(stranger, action, team.org) for action in EXPECTED)


def test_an_unknown_action_is_an_error_not_a_silent_answer(team):
    with pytest.raises(ValueError):
        policy.can(team.owner, "members.delete_everything", team.org)


def test_a_group_manager_edits_only_the_links_they_made(team):
    from invites.links.models import InviteLink

    mine = InviteLink(org_id=team.org.id, created_by_id=team.member.id, token_hash="a" * 64)
    theirs = InviteLink(org_id=team.org.id, created_by_id=team.manager.id, token_hash="b" * 64)
    assert policy.can(team.member, "links.edit", team.org, mine)
    assert not policy.can(team.member, "links.edit", team.org, theirs)
    assert policy.can(team.manager, "links.edit", team.org, mine)
    collaborators_link = InviteLink(org_id=team.org.id, created_by_id=team.collaborator.id, token_hash="c" * 64)
    assert not policy.can(team.collaborator, "links.edit", team.org, collaborators_link)
