"""Seat limits with a waiting list (issue 19, part 3): the owners' limit or the plan's,
checked once in ``admit`` for every way in; invitations and invite links put people on
the waiting list; staff accept from it once a seat is free; 50 admissions at once into
the last 3 seats make exactly 3 members (PostgreSQL)."""
from datetime import datetime

import pytest

from invites.activity.models import Activity
from invites.extensions import db
from invites.groups.service import create_group
from invites.invitations.models import Invitation
from invites.join_page import service as join_pages
from invites.join_requests.models import JoinRequest
from invites.links.models import InviteLink
from invites.notifications.models import Notification
from invites.orgs.admission import admit
from invites.orgs.models import Membership, Role
from invites.orgs.seats import NoFreeSeat, seat_limit, seats_used
from tests.invitations.test_races import run_at_once


def membership(org, person):
    return db.session.scalar(db.select(Membership).filter_by(org_id=org.id, user_id=person.id))


def fill(org):
    """Set the owners' limit to the members there are now: no seat free."""
    org.member_limit = seats_used(org)
    db.session.commit()
    return org.member_limit


def test_the_limit_is_the_owners_or_the_plans_whichever_is_lower(app, team):
    assert seat_limit(team.org) is None
    team.org.member_limit = 40
    assert seat_limit(team.org) == 40
    app.config["MEMBER_LIMITS"] = {"free": 25, "premium": None}
    try:
        assert seat_limit(team.org) == 25
        team.org.member_limit = None
        assert seat_limit(team.org) == 25
        team.org.plan = "premium"
        assert seat_limit(team.org) is None
    finally:
        app.config["MEMBER_LIMITS"] = {"free": None, "premium": None}


def test_owners_set_the_limit_under_permissions(client, auth, team):
    auth.login(team.owner)
    form = {"invitation_lifetime_days": "14", "reminder_days_before": "2", "member_limit": "30"}
    assert client.post_form(f"/o/{team.org.slug}/manage/permissions", form).status_code == 302
    db.session.expire_all()
    assert team.org.member_limit == 30
    assert "member limit: none → 30" in db.session.scalar(db.select(Activity.summary).filter_by(verb="settings.changed"))
    refused = client.post_form(f"/o/{team.org.slug}/manage/permissions", {**form, "member_limit": "0"})
    assert refused.status_code == 200 and "Number must be between 1 and 1000000" in refused.get_data(as_text=True)
    db.session.expire_all()
    assert team.org.member_limit == 30
    overview = " ".join(client.get(f"/o/{team.org.slug}").get_data(as_text=True).split())
    members = seats_used(team.org)
    assert f"{members} of 30</strong> seats used" in overview and f"seats used · {30 - members} free" in overview


def test_a_full_organization_admits_nobody_new_but_members_still_join_groups(app, team, make_user):
    fill(team.org)
    group = create_group(team.org, team.owner, "Cohort")
    db.session.commit()
    with pytest.raises(NoFreeSeat) as full:
        admit(team.org, make_user(), Role.MEMBER, [], verb="link.used", describe=lambda a: "joined")
    assert "has no free seat" in full.value.message
    db.session.rollback()
    admission = admit(team.org, team.member, Role.MEMBER, [group], verb="link.used", describe=lambda a: "joined")
    assert not admission.joined and admission.groups == [group]


def test_accepting_an_invitation_when_full_puts_the_person_on_the_waiting_list(
    app, client, auth, team, make_user, make_invitation, smtp,
):
    group = create_group(team.org, team.owner, "Cohort")
    db.session.commit()
    invitation, token = make_invitation(team.org, team.owner, "late@example.com", role=Role.MEMBER, groups=[group])
    invitation.access_until = datetime(2099, 1, 1)
    db.session.commit()
    fill(team.org)
    person = make_user(email="late@example.com")
    auth.login(person)
    response = client.post_form(f"/i/{token}/accept")
    assert response.status_code == 302
    assert "you are on its waiting list" in client.get(response.headers["Location"]).get_data(as_text=True)
    assert membership(team.org, person) is None
    request = db.session.scalar(db.select(JoinRequest).filter_by(user_id=person.id))
    assert request.waiting and request.invitation_id == invitation.id and request.status == "pending"
    assert db.session.get(Invitation, invitation.id).status == "pending"
    for staff in (team.owner, team.manager):
        assert db.session.scalar(db.select(Notification.text).filter_by(user_id=staff.id, kind="join_request")).startswith(
            f"{person.name} asked to join Acme Training through an invitation, with no free seat")
    assert any("asked to join" in m["Subject"] for m in smtp.to(team.owner.email))

    # Staff see it on the waiting list; accepting while still full is refused with why.
    auth.logout()
    auth.login(team.owner)
    panel = client.get(f"/o/{team.org.slug}/manage/join-requests").get_data(as_text=True)
    assert "Waiting list" in panel and "An invitation, when no seat was free" in panel
    refused = client.post_form(f"/o/{team.org.slug}/join-requests/{request.id}/accept", {"confirmed": "yes"})
    assert refused.status_code == 302
    assert "has no free seat" in client.get(refused.headers["Location"]).get_data(as_text=True)
    assert membership(team.org, person) is None
    # A seat frees up: accepting grants what the invitation would have.
    team.org.member_limit += 1
    db.session.commit()
    client.post_form(f"/o/{team.org.slug}/join-requests/{request.id}/accept", {"confirmed": "yes"})
    db.session.expire_all()
    joined = membership(team.org, person)
    assert joined is not None and joined.role == Role.MEMBER and joined.access_until == datetime(2099, 1, 1)
    assert [g.name for g in db.session.get(Invitation, invitation.id).groups] == ["Cohort"]
    assert db.session.get(Invitation, invitation.id).status == "accepted"


def test_an_invite_link_when_full_waits_too_and_uses_nothing(client, auth, team, make_user, make_link):
    link, token = make_link(team.org, team.owner, max_uses=5)
    fill(team.org)
    person = make_user()
    auth.login(person)
    response = client.post_form(f"/l/{token}/join")
    assert response.status_code == 302
    assert membership(team.org, person) is None
    request = db.session.scalar(db.select(JoinRequest).filter_by(user_id=person.id))
    assert request.waiting and request.invite_link_id == link.id
    assert db.session.get(InviteLink, link.id).uses == 0
    # Pressing again keeps one request.
    client.post_form(f"/l/{token}/join")
    assert db.session.scalar(db.select(db.func.count(JoinRequest.id)).filter_by(user_id=person.id)) == 1


def test_the_join_web_page_says_it_is_full(client, auth, team, make_user):
    team.org.plan = "premium"
    page = join_pages.page_of(team.org)
    join_pages.update_page(team.org, team.owner, page, enabled=True, slug="acme-full", groups=[], allowed_domains="")
    fill(team.org)
    person = make_user()
    auth.login(person)
    response = client.post_form("/join/acme-full")
    assert response.status_code == 403 and "has no free seat" in response.get_data(as_text=True)
    assert membership(team.org, person) is None


def test_accepting_a_join_request_link_request_respects_the_limit(client, auth, team, make_user):
    from invites.join_requests.models import Notify
    from invites.join_requests.service import create_join_link, request_to_join

    link, _ = create_join_link(team.org, team.owner, description="Cohort", role=Role.MEMBER, groups=[],
                               notify_choice=Notify.NOBODY)
    person = make_user()
    request = request_to_join(link, person, "hi")
    db.session.commit()
    fill(team.org)
    auth.login(team.owner)
    client.post_form(f"/o/{team.org.slug}/join-requests/{request.id}/accept", {"confirmed": "yes"})
    assert membership(team.org, person) is None
    assert db.session.get(JoinRequest, request.id).status == "pending"


@pytest.mark.postgres_only
def test_fifty_admissions_at_once_into_the_last_three_seats_make_three_members(app, team, make_user):
    people = [make_user() for _ in range(50)]
    team.org.member_limit = seats_used(team.org) + 3
    db.session.commit()
    org_id, ids = team.org.id, [p.id for p in people]
    db.session.remove()

    def admission(user_id):
        def act():
            from invites.accounts.models import User
            from invites.orgs.models import Organization
            org, user = db.session.get(Organization, org_id), db.session.get(User, user_id)
            return admit(org, user, Role.MEMBER, [], verb="link.used", describe=lambda a: "joined")
        return act

    results = run_at_once(app, [admission(i) for i in ids])
    assert sum(1 for r in results if isinstance(r, NoFreeSeat)) == 47, results
    joined = db.session.scalar(db.select(db.func.count(Membership.id)).where(
        Membership.org_id == org_id, Membership.user_id.in_(ids)))
    assert joined == 3


def test_the_pages_that_invite_say_when_the_next_person_waits(client, auth, team):
    auth.login(team.owner)
    notice = "Acme Training has no free seat."
    assert notice not in client.get(f"/o/{team.org.slug}/invitations/new").get_data(as_text=True)
    fill(team.org)
    for page in ("invitations/new", "links/new", "manage/imports"):
        assert notice in client.get(f"/o/{team.org.slug}/{page}").get_data(as_text=True), page
    team.org.member_limit += 1
    db.session.commit()
    assert notice not in client.get(f"/o/{team.org.slug}/links/new").get_data(as_text=True)
