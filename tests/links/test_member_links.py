"""Seed 001: "Group Invites allow users, managers, and admins to generate a URL… If you do
not have this permission, you will only be able to share the link with existing members."
A plain member of a group makes "Existing members only" links for the groups they are in;
"Anyone with the link" still needs the add-people permission (F5)."""
import pytest

from invites import policy
from invites.errors import DomainError
from invites.extensions import db
from invites.groups.service import add_to_group, create_group
from invites.links import service
from invites.links.models import Access, InviteLink
from invites.orgs.models import Role


@pytest.fixture
def groups(team):
    """Mia is a plain member of Safety (not its manager) and not in Forklifts."""
    safety = create_group(team.org, team.owner, "Safety")
    forklifts = create_group(team.org, team.owner, "Forklifts")
    add_to_group(team.org, team.owner, safety, team.member)
    db.session.commit()
    return safety, forklifts


def count_links():
    return db.session.scalar(db.select(db.func.count(InviteLink.id)))


def test_the_policy_allows_a_member_links_for_their_own_groups(team, groups):
    safety, forklifts = groups
    assert policy.can(team.member, "links.create", team.org)
    assert policy.can(team.member, "links.create", team.org, safety)
    assert not policy.can(team.member, "links.create", team.org, forklifts)
    assert not policy.can(team.member, "groups.invite", team.org, safety)  # no more than links
    assert not policy.can(team.collaborator, "links.create", team.org)
    assert not policy.can(team.outsider, "links.create", team.org)
    assert policy.can(team.manager, "links.create", team.org, forklifts)


def test_a_member_in_no_group_may_not(client, auth, team):
    assert not policy.can(team.member, "links.create", team.org)
    auth.login(team.member)
    assert client.get(f"/o/{team.org.slug}/links/new").status_code == 403
    response = client.post_form(f"/o/{team.org.slug}/links/new",
                                {"expiration": "1d", "access": "members", "role": "member"})
    assert response.status_code == 403 and count_links() == 0


def test_a_member_makes_a_members_only_link_for_their_group(client, auth, team, groups):
    safety, forklifts = groups
    auth.login(team.member)
    form = client.get(f"/o/{team.org.slug}/links/new?group={safety.id}").get_data(as_text=True)
    assert 'value="members"' in form and 'value="anyone"' not in form
    assert f'<input checked id="groups-0" name="groups" type="checkbox" value="{safety.id}">' in form
    assert "Forklifts" not in form
    response = client.post_form(f"/o/{team.org.slug}/links/new", {
        "expiration": "1d", "access": "members", "role": "member", "groups": [str(safety.id)],
    })
    assert response.status_code == 302
    link = db.session.scalar(db.select(InviteLink))
    assert link.access == Access.MEMBERS and [g.name for g in link.groups] == ["Safety"]
    assert link.created_by_id == team.member.id
    page = client.get(response.location).get_data(as_text=True)  # theirs to copy and share
    assert 'id="link-url"' in page and link.shareable_token() in page


def test_anyone_is_refused_with_a_clear_message(client, auth, team, groups):
    safety, _ = groups
    auth.login(team.member)
    response = client.post_form(f"/o/{team.org.slug}/links/new", {
        "expiration": "1d", "access": "anyone", "role": "member", "groups": [str(safety.id)],
    })
    assert response.status_code == 422 and count_links() == 0
    with pytest.raises(DomainError) as error:
        service.create_link(team.org, team.member, expiration="1d", access=Access.ANYONE,
                            role=Role.MEMBER, groups=[safety])
    assert error.value.field == "access"
    assert "Only people who may add new people" in error.value.message
    assert "Existing members only" in error.value.message


def test_not_for_a_group_they_are_not_in_nor_without_a_group(client, auth, team, groups):
    safety, forklifts = groups
    for chosen, message in (([forklifts], "groups you are in, not Forklifts"), ([], "at least one of your groups")):
        with pytest.raises(DomainError) as error:
            service.create_link(team.org, team.member, expiration="1d", access=Access.MEMBERS,
                                role=Role.MEMBER, groups=chosen)
        assert error.value.field == "groups" and message in error.value.message
        db.session.rollback()
    with pytest.raises(DomainError) as error:
        service.create_link(team.org, team.member, expiration="1d", access=Access.MEMBERS,
                            role=Role.MANAGER, groups=[safety])
    assert error.value.field == "role"
    db.session.rollback()
    auth.login(team.member)
    response = client.post_form(f"/o/{team.org.slug}/links/new", {
        "expiration": "1d", "access": "members", "role": "member", "groups": [str(forklifts.id)],
    })
    assert response.status_code == 422 and count_links() == 0


def test_members_join_the_group_through_a_members_link_and_others_cannot(client, auth, team, groups, make_link, make_user):
    safety, _ = groups
    link, token = make_link(team.org, team.member, access=Access.MEMBERS, groups=[safety])
    auth.login(team.collaborator)
    response = client.post_form(f"/l/{token}/join")
    assert response.status_code == 302
    assert [g.name for g in link.groups] == ["Safety"]
    messages = client.get(response.location).get_data(as_text=True)
    assert "You joined the group Safety." in messages
    auth.logout()
    auth.login(make_user(name="Nat Newcomer"))
    assert client.post_form(f"/l/{token}/join").status_code == 403
