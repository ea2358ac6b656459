"""Issue 18, part 5: following an invitation or an invite link of an organization one
already belongs to takes one there with a note; it never errors, never changes one's role,
and adds the groups the invitation or link carries that one is not in yet."""
from datetime import timedelta

import pytest

from invites import clock
from invites.extensions import db
from invites.groups.models import GroupMember
from invites.groups.service import create_group
from invites.links.models import Access
from invites.orgs.models import Membership, Role


@pytest.fixture
def groups(team):
    made = [create_group(team.org, team.owner, name) for name in ("First Aid", "Safety")]
    db.session.commit()
    return made


def role_of(team, user):
    return db.session.scalar(db.select(Membership.role).filter_by(org_id=team.org.id, user_id=user.id))


def groups_of(user):
    return set(db.session.scalars(db.select(GroupMember.group_id).filter_by(user_id=user.id)))


def note_after(client, response):
    assert response.status_code == 302
    return client.get(response.headers["Location"]).get_data(as_text=True)


# --- Invitations ---------------------------------------------------------------------------

def invite_then_join(team, add_member, make_invitation, role, invitation_role=Role.MEMBER, groups=()):
    """An invitation to the outsider, who meanwhile became a member by another way."""
    _, token = make_invitation(team.org, team.owner, team.outsider.email, invitation_role, groups)
    add_member(team.org, team.outsider, role)
    return token


@pytest.mark.parametrize("role", [Role.OWNER, Role.MANAGER, Role.COLLABORATOR])
def test_accepting_as_a_member_keeps_the_role_and_says_so(client, auth, team, add_member, make_invitation, role):
    token = invite_then_join(team, add_member, make_invitation, role)
    auth.login(team.outsider)
    response = client.post_form(f"/i/{token}/accept")
    assert response.headers["Location"] == f"/o/{team.org.slug}"
    page = note_after(client, response)
    assert "You are already a member of Acme Training." in page and "You joined" not in page
    assert role_of(team, team.outsider) == role


def test_an_invitation_to_a_higher_role_does_not_raise_a_member(client, auth, team, add_member, make_invitation):
    token = invite_then_join(team, add_member, make_invitation, Role.MEMBER, invitation_role=Role.MANAGER)
    auth.login(team.outsider)
    client.post_form(f"/i/{token}/accept")
    assert role_of(team, team.outsider) == Role.MEMBER


def test_accepting_as_a_member_adds_only_the_new_groups(client, auth, team, add_member, make_invitation, groups):
    first_aid, safety = groups
    token = invite_then_join(team, add_member, make_invitation, Role.MANAGER, groups=groups)
    db.session.add(GroupMember(group_id=first_aid.id, user_id=team.outsider.id))
    db.session.commit()
    auth.login(team.outsider)
    page = note_after(client, client.post_form(f"/i/{token}/accept"))
    assert "You joined the group Safety." in page
    assert groups_of(team.outsider) == {first_aid.id, safety.id}
    assert role_of(team, team.outsider) == Role.MANAGER


@pytest.mark.parametrize("how", ["expired", "cancelled", "declined"])
def test_a_dead_invitation_takes_a_member_to_the_organization(
    app, client, auth, team, add_member, make_invitation, how,
):
    from invites.invitations import answering, sending

    invitation, token = make_invitation(team.org, team.owner, team.outsider.email)
    if how == "expired":
        clock.freeze(invitation.expires_at + timedelta(minutes=1))
    elif how == "cancelled":
        with app.test_request_context():
            sending.cancel_invitation(team.org, team.owner, invitation)
    else:
        answering.decline_invitation(invitation, team.outsider, by_link=True)
    db.session.commit()
    add_member(team.org, team.outsider, Role.COLLABORATOR)
    auth.login(team.outsider)
    for follow in (lambda: client.get(f"/i/{token}"), lambda: client.post_form(f"/i/{token}/accept")):
        response = follow()
        assert response.headers["Location"] == f"/o/{team.org.slug}"
        assert "You are already a member of Acme Training." in note_after(client, response)
    assert role_of(team, team.outsider) == Role.COLLABORATOR


def test_another_address_of_a_member_shows_the_way_to_the_organization(client, auth, team, make_invitation):
    """An invitation sent to another address stays for that address (403, as the
    authorization matrix says), but a member is shown the way in."""
    _, token = make_invitation(team.org, team.owner, team.outsider.email)
    auth.login(team.member)
    page = client.get(f"/i/{token}")
    assert page.status_code == 403
    assert "You are already a member of Acme Training." in page.get_data(as_text=True)


# --- Invite links ----------------------------------------------------------------------------

def test_an_owner_following_a_member_link_stays_owner(client, auth, team, make_link):
    _, token = make_link(team.org, team.manager, role=Role.MEMBER)
    auth.login(team.owner)
    assert client.get(f"/l/{token}").status_code == 200
    response = client.post_form(f"/l/{token}/join")
    assert response.headers["Location"] == f"/o/{team.org.slug}"
    assert "You are already a member of Acme Training." in note_after(client, response)
    assert role_of(team, team.owner) == Role.OWNER


@pytest.mark.parametrize("access", [Access.ANYONE, Access.MEMBERS])
def test_a_link_with_new_groups_adds_them_and_names_them(client, auth, team, make_link, groups, access):
    _, token = make_link(team.org, team.owner, access=access, role=Role.MEMBER, groups=groups)
    auth.login(team.manager)
    response = client.post_form(f"/l/{token}/join")
    assert response.headers["Location"] == f"/o/{team.org.slug}"
    assert "You joined the groups First Aid and Safety." in note_after(client, response)
    assert groups_of(team.manager) == {g.id for g in groups}
    assert role_of(team, team.manager) == Role.MANAGER
    # Again: nothing new, a note, no error, and the link's use is not counted twice.
    again = client.post_form(f"/l/{token}/join")
    assert "You are already a member of Acme Training" in note_after(client, again)


@pytest.mark.parametrize("how", ["expired", "used_up"])
def test_a_dead_link_takes_a_member_to_the_organization(client, auth, team, make_link, how):
    link, token = make_link(team.org, team.manager, expiration="1d", max_uses=1)
    if how == "expired":
        clock.freeze(link.expires_at + timedelta(minutes=1))
    else:
        link.uses = 1
        db.session.commit()
    auth.login(team.owner)
    for follow in (lambda: client.get(f"/l/{token}"), lambda: client.post_form(f"/l/{token}/join")):
        response = follow()
        assert response.headers["Location"] == f"/o/{team.org.slug}"
        assert "You are already a member of Acme Training." in note_after(client, response)
    assert role_of(team, team.owner) == Role.OWNER
