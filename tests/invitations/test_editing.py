"""Editing a pending invitation (issue 18): role, groups and last day, within the editor's
rights; what the activity log says; the invitee's page; the reminders; htmx and plain
forms; and every invitation that can no longer be edited."""
from datetime import date, datetime, timedelta

import pytest

from invites import clock
from invites.activity.models import Activity
from invites.errors import DomainError
from invites.extensions import db
from invites.groups.models import GroupMember
from invites.groups.service import create_group
from invites.invitations import answering, sending
from invites.invitations.editing import edit_invitation
from invites.invitations.models import Invitation, Status
from invites.orgs.models import Role

START = datetime(2026, 3, 2, 10, 0)  # sent then, the invitation expires on 16 Mar at 10:00


@pytest.fixture
def world(app, team, make_user, add_member, make_invitation):
    """Acme with the groups Safety (Gina, a member, manages it) and Forklifts, and an
    invitation of ann@example.com into Safety as Member, sent by the owner at START."""
    clock.freeze(START)
    team.safety = create_group(team.org, team.owner, "Safety")
    team.forklifts = create_group(team.org, team.owner, "Forklifts")
    team.gina = make_user(name="Gina Groupmanager")
    add_member(team.org, team.gina, Role.MEMBER)
    db.session.add(GroupMember(group_id=team.safety.id, user_id=team.gina.id, is_manager=True))
    db.session.commit()
    team.invitation, team.token = make_invitation(team.org, team.owner, "ann@example.com", groups=[team.safety])
    return team


def fresh(invitation_id):
    db.session.expire_all()
    return db.session.get(Invitation, invitation_id)


def terms(invitation_id):
    invitation = fresh(invitation_id)
    return invitation.role, [g.name for g in invitation.groups], invitation.expires_at


def edit_url(world, invitation=None, **query):
    invitation = invitation or world.invitation
    tail = "".join(f"?{key}={value}" for key, value in query.items())
    return f"/o/{world.org.slug}/invitations/{invitation.id}/edit{tail}"


def form(role=Role.MEMBER, groups=(), expires_on=date(2026, 3, 16)):
    return {"role": role, "groups": [str(g.id) for g in groups], "expires_on": expires_on.isoformat()}


def last_activity():
    return db.session.scalar(db.select(Activity).order_by(Activity.id.desc()).limit(1))


# --- The service -------------------------------------------------------------------------------

def test_the_owner_changes_role_groups_and_expiry_and_the_log_says_from_what_to_what(world):
    invitation = world.invitation
    changes = edit_invitation(world.org, world.owner, invitation, Role.MANAGER,
                              [world.forklifts], date(2026, 3, 20))
    db.session.commit()
    assert changes == ["role Member → Manager", "groups Safety → Forklifts", "expires 16 Mar → 20 Mar"]
    assert terms(invitation.id) == (Role.MANAGER, ["Forklifts"], datetime(2026, 3, 21))
    entry = last_activity()
    assert entry.verb == "invitation.edited" and entry.actor_id == world.owner.id
    assert entry.summary == ("changed the invitation of ann@example.com: role Member → Manager; "
                             "groups Safety → Forklifts; expires 16 Mar → 20 Mar")


def test_groups_from_none_and_nothing_changed(world, make_invitation):
    invitation, _ = make_invitation(world.org, world.owner, "bob@example.com")
    assert edit_invitation(world.org, world.owner, invitation, Role.MEMBER, [world.safety], None) == [
        "groups — → Safety"]
    db.session.commit()
    assert last_activity().summary == "changed the invitation of bob@example.com: groups — → Safety"
    count = db.session.scalar(db.select(db.func.count(Activity.id)))
    # The same terms again, the last day as the form shows it: nothing changes, nothing logged.
    assert edit_invitation(world.org, world.owner, fresh(invitation.id), Role.MEMBER, [world.safety],
                           date(2026, 3, 16)) == []
    db.session.commit()
    assert db.session.scalar(db.select(db.func.count(Activity.id))) == count
    assert fresh(invitation.id).expires_at == datetime(2026, 3, 16, 10, 0)  # the exact time kept


def test_a_new_expiry_reschedules_the_reminders(world):
    invitation = world.invitation
    assert invitation.remind_at == datetime(2026, 3, 14, 10, 0)  # 2 days before 16 Mar 10:00
    edit_invitation(world.org, world.owner, invitation, Role.MEMBER, [world.safety], date(2026, 3, 25))
    db.session.commit()
    assert fresh(invitation.id).remind_at == datetime(2026, 3, 24)  # 2 days before 26 Mar 00:00
    # A reminder gone out already: the next one comes only after it.
    invitation = fresh(invitation.id)
    world.org.reminder_halfway = True
    invitation.reminded_at = datetime(2026, 3, 10)
    db.session.commit()
    edit_invitation(world.org, world.owner, invitation, Role.MEMBER, [world.safety], date(2026, 4, 9))
    db.session.commit()
    # Halfway through 2 Mar 10:00 → 10 Apr 00:00 is 21 Mar 17:00, after the 10 Mar reminder.
    assert fresh(invitation.id).remind_at == datetime(2026, 3, 21, 17, 0)


@pytest.mark.parametrize("expires_on, message", [
    (date(2026, 3, 1), "not in the past"),
    (date(2027, 3, 3), "at most 365 days ahead"),
])
def test_the_last_day_is_neither_past_nor_over_a_year_ahead(world, expires_on, message):
    before = terms(world.invitation.id)
    with pytest.raises(DomainError, match=message) as raised:
        edit_invitation(world.org, world.owner, world.invitation, Role.MEMBER, [world.safety], expires_on)
    db.session.rollback()
    assert raised.value.field == "expires_on" and terms(world.invitation.id) == before
    # Today and a year ahead are fine.
    edit_invitation(world.org, world.owner, fresh(world.invitation.id), Role.MEMBER, [world.safety], date(2026, 3, 2))
    edit_invitation(world.org, world.owner, fresh(world.invitation.id), Role.MEMBER, [world.safety], date(2027, 3, 2))


def test_a_group_manager_edits_within_their_group_and_member_only(world):
    invitation = world.invitation
    edit_invitation(world.org, world.gina, invitation, Role.COLLABORATOR, [world.safety], date(2026, 3, 18))
    db.session.commit()
    assert terms(invitation.id) == (Role.COLLABORATOR, ["Safety"], datetime(2026, 3, 19))
    before = terms(invitation.id)
    for role, groups, field in [
        (Role.MANAGER, [world.safety], "role"),              # above Member
        (Role.MEMBER, [world.safety, world.forklifts], "groups"),  # a group she does not manage
        (Role.MEMBER, [], "groups"),                        # no group: staff's alone then
    ]:
        with pytest.raises(DomainError) as raised:
            edit_invitation(world.org, world.gina, fresh(invitation.id), role, groups, None)
        db.session.rollback()
        assert raised.value.field == field, (role, groups)
        assert terms(invitation.id) == before


def test_the_organization_requiring_a_group_is_kept(world):
    world.org.require_group_on_invite = True
    db.session.commit()
    with pytest.raises(DomainError, match="at least one group"):
        edit_invitation(world.org, world.owner, world.invitation, Role.MEMBER, [], None)


@pytest.mark.parametrize("ending", ["accepted", "declined", "cancelled", "expired"])
def test_an_answered_cancelled_or_expired_invitation_cannot_be_edited(world, client, auth, make_invitation, ending):
    invitation, _ = make_invitation(world.org, world.owner, world.outsider.email, groups=[world.safety])
    if ending == "accepted":
        answering.accept_invitation(invitation, world.outsider)
    elif ending == "declined":
        answering.decline_invitation(invitation, world.outsider)
    elif ending == "cancelled":
        sending.cancel_invitation(world.org, world.owner, invitation)
    else:
        clock.freeze(START + timedelta(days=15))
    db.session.commit()
    before = terms(invitation.id), fresh(invitation.id).status
    with pytest.raises(DomainError, match="can no longer be edited"):
        edit_invitation(world.org, world.owner, fresh(invitation.id), Role.MANAGER, [], None)
    db.session.rollback()

    auth.login(world.owner)
    page = client.get(edit_url(world, invitation))
    assert page.status_code == 409 and "can no longer be edited" in page.get_data(as_text=True)
    response = client.post_form(edit_url(world, invitation), form(Role.MANAGER, expires_on=date(2026, 3, 28)))
    assert response.status_code == 409 and "can no longer be edited" in response.get_data(as_text=True)
    # htmx gets the row as it is, and the reason.
    response = client.post_form(edit_url(world, invitation), form(Role.MANAGER, expires_on=date(2026, 3, 28)), htmx=True)
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and f'id="invitation-{invitation.id}"' in html
    assert "can no longer be edited" in html and 'class="editing"' not in html
    assert (terms(invitation.id), fresh(invitation.id).status) == before
    # No Edit button on its row.
    panel = client.get(f"/o/{world.org.slug}/manage/invitations").get_data(as_text=True)
    assert f'href="{edit_url(world, invitation)}"' not in panel


# --- Over HTTP ---------------------------------------------------------------------------------

def test_the_invitee_page_shows_the_new_terms(world, client, auth):
    link = f"/i/{world.token}"
    assert "as <strong>Member</strong>" in client.get(link).get_data(as_text=True)
    auth.login(world.owner)
    client.post_form(edit_url(world), form(Role.MANAGER, [world.forklifts], date(2026, 3, 30)))
    auth.logout()
    html = client.get(link).get_data(as_text=True)
    assert "as <strong>Manager</strong>" in html and "Groups: Forklifts" in html and "Safety" not in html
    assert fresh(world.invitation.id).expires_at == datetime(2026, 3, 31)


def test_htmx_gets_the_edit_row_then_the_updated_row(world, client, auth):
    auth.login(world.owner)
    panel = client.get(f"/o/{world.org.slug}/manage/invitations").get_data(as_text=True)
    assert f'hx-get="{edit_url(world)}"' in panel  # the row's Edit button
    response = client.get(edit_url(world), headers={"HX-Request": "true"})
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "HX-Request" in response.headers["Vary"]
    assert html.lstrip().startswith(f'<tr id="invitation-{world.invitation.id}" class="editing">')
    assert 'value="2026-03-16"' in html and "<html" not in html
    response = client.post_form(edit_url(world), form(Role.MANAGER, [world.safety], date(2026, 3, 20)), htmx=True)
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and 'class="editing"' not in html
    assert f'<tr id="invitation-{world.invitation.id}">' in html and "Manager" in html
    assert "role Member → Manager; expires 16 Mar → 20 Mar" in html  # the flash, out of band
    assert terms(world.invitation.id)[0] == Role.MANAGER


def test_htmx_form_errors_come_back_in_the_edit_row(world, client, auth):
    auth.login(world.gina)
    response = client.post_form(edit_url(world), form(Role.MEMBER, [world.safety], date(2026, 1, 1)), htmx=True)
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and 'class="editing"' in html and "not in the past" in html


def test_a_plain_post_redirects_to_the_panel_or_the_group_page(world, client, auth):
    auth.login(world.owner)
    page = client.get(edit_url(world))
    assert page.status_code == 200 and "Edit the invitation of" in page.get_data(as_text=True)
    response = client.post_form(edit_url(world), form(Role.MANAGER, [world.safety]))
    assert response.status_code == 302
    assert response.location.endswith(f"/o/{world.org.slug}/manage/invitations")
    response = client.post_form(edit_url(world, from_group=world.safety.id), form(Role.MEMBER, [world.safety]))
    assert response.status_code == 302
    assert response.location.endswith(f"/o/{world.org.slug}/groups/{world.safety.id}#group-invitations")
    assert terms(world.invitation.id)[0] == Role.MEMBER


def test_a_group_manager_through_the_group_page(world, client, auth):
    auth.login(world.gina)
    group_page = client.get(f"/o/{world.org.slug}/groups/{world.safety.id}").get_data(as_text=True)
    assert f'href="{edit_url(world, from_group=world.safety.id)}"' in group_page
    response = client.post_form(edit_url(world, from_group=world.safety.id),
                                form(Role.COLLABORATOR, [world.safety], date(2026, 3, 22)))
    assert response.status_code == 302 and "/groups/" in response.location
    assert terms(world.invitation.id) == (Role.COLLABORATOR, ["Safety"], datetime(2026, 3, 23))
    before = terms(world.invitation.id)
    for data in (form(Role.MANAGER, [world.safety]), form(Role.MEMBER, [world.safety, world.forklifts]),
                 form(Role.MEMBER, [])):
        response = client.post_form(edit_url(world, from_group=world.safety.id), data)
        assert response.status_code == 422, data
    assert terms(world.invitation.id) == before


@pytest.mark.parametrize("who, status", [("member", 403), ("collaborator", 403), ("outsider", 404)])
def test_others_are_refused(world, client, auth, who, status):
    before = terms(world.invitation.id)
    auth.login(getattr(world, who))
    assert client.get(edit_url(world)).status_code == status
    assert client.post_form(edit_url(world), form(Role.MEMBER, [world.safety], date(2026, 3, 20))).status_code == status
    assert terms(world.invitation.id) == before


def test_another_organizations_invitation_is_not_found(world, client, auth, make_org, make_user, make_invitation):
    rival = make_user(name="Rita Rival")
    elsewhere = make_org(owner=rival, name="Elsewhere")
    theirs, _ = make_invitation(elsewhere, rival, "someone@example.com")
    auth.login(world.owner)
    url = f"/o/{world.org.slug}/invitations/{theirs.id}/edit"
    assert client.get(url).status_code == 404
    assert client.post_form(url, form(Role.MANAGER)).status_code == 404
    assert fresh(theirs.id).role == Role.MEMBER and fresh(theirs.id).status == Status.PENDING
