"""A group's invitations on its page (issue 22, seed 004): its managers and the staff see
them with their status, and resend or cancel the pending ones they may manage; the
organization's Invitations panel filters by group."""
import re
from types import SimpleNamespace

import pytest

from invites import policy
from invites.extensions import db
from invites.groups.models import GroupMember
from invites.groups.service import create_group, set_group_manager
from invites.invitations.answering import accept_invitation, decline_invitation
from invites.invitations.models import Invitation, Status
from invites.orgs.models import Role


@pytest.fixture
def groups(team, make_user, add_member):
    """Trainers, managed by Gina (a member); Coaches, managed by Carl (a member)."""
    trainers = create_group(team.org, team.owner, "Trainers")
    coaches = create_group(team.org, team.owner, "Coaches")
    gina = make_user(name="Gina Groupmanager")
    carl = make_user(name="Carl Coachmanager")
    add_member(team.org, gina, Role.MEMBER)
    add_member(team.org, carl, Role.MEMBER)
    db.session.add(GroupMember(group_id=trainers.id, user_id=gina.id, is_manager=True))
    db.session.add(GroupMember(group_id=coaches.id, user_id=carl.id, is_manager=True))
    db.session.commit()
    return SimpleNamespace(trainers=trainers, coaches=coaches, gina=gina, carl=carl)


@pytest.fixture
def invited(team, groups, make_invitation, make_user):
    """One invitation of each kind the page must tell apart."""
    def make(email, *gs, role=Role.MEMBER):
        return make_invitation(team.org, team.owner, email, role=role, groups=gs)[0]

    result = dict(
        pending=make("pending@example.com", groups.trainers),
        accepted=make("accepted@example.com", groups.trainers),
        declined=make("declined@example.com", groups.trainers),
        both=make("both@example.com", groups.trainers, groups.coaches),
        as_manager=make("boss@example.com", groups.trainers, role=Role.MANAGER),
        coaches=make("coach@example.com", groups.coaches),
        none=make("nogroup@example.com"),
    )
    accept_invitation(result["accepted"], make_user(email="accepted@example.com"))
    decline_invitation(result["declined"], by_link=True)
    db.session.commit()
    return result


def page_text(response):
    """The HTML with the line-break hints in long addresses taken out, so they read whole."""
    return response.get_data(as_text=True).replace("<wbr>", "")


def group_url(team, group, tail=""):
    return f"/o/{team.org.slug}/groups/{group.id}{tail}"


def action_url(team, invitation, action, group=None):
    query = f"?from_group={group.id}" if group is not None else ""
    return f"/o/{team.org.slug}/invitations/{invitation.id}/{action}{query}"


def status_of(invitation):
    db.session.expire_all()
    return db.session.get(Invitation, invitation.id).status


def row(html, invitation):
    match = re.search(rf'<tr id="invitation-{invitation.id}">.*?</tr>', html, re.DOTALL)
    assert match, f"no row for {invitation.email}"
    return match.group(0)


def test_a_group_manager_sees_the_groups_invitations_with_their_status(client, auth, team, groups, invited):
    auth.login(groups.gina)
    html = page_text(client.get(group_url(team, groups.trainers)))
    assert 'id="group-invitations"' in html
    for name in ("pending", "accepted", "declined", "both", "as_manager"):
        assert invited[name].email in html
    # Only the invitations that include this group.
    assert invited["coaches"].email not in html and invited["none"].email not in html
    assert "Pending" in row(html, invited["pending"])
    assert "Accepted" in row(html, invited["accepted"])
    assert "Declined" in row(html, invited["declined"])
    # Resend and Cancel on the pending one she may manage; a plain POST comes back here.
    pending = row(html, invited["pending"])
    assert f'action="{action_url(team, invited["pending"], "cancel", groups.trainers)}"' in pending
    assert f'action="{action_url(team, invited["pending"], "resend", groups.trainers)}"' in pending
    # None on answered ones, nor on those she may not manage (another group too; a role
    # above her own): they stay with the staff.
    for name in ("accepted", "declined", "both", "as_manager"):
        assert "/cancel" not in row(html, invited[name]) and "/resend" not in row(html, invited[name])


def test_staff_see_the_list_with_every_pending_invitation_manageable(client, auth, team, groups, invited):
    auth.login(team.manager)
    html = page_text(client.get(group_url(team, groups.trainers)))
    for name in ("pending", "both", "as_manager"):
        assert "/cancel" in row(html, invited[name])


@pytest.mark.parametrize("who", ["carl", "member", "collaborator"])
def test_no_list_and_403_for_those_who_do_not_manage_the_group(client, auth, team, groups, invited, who):
    user = {"carl": groups.carl, "member": team.member, "collaborator": team.collaborator}[who]
    auth.login(user)
    html = page_text(client.get(group_url(team, groups.trainers)))
    assert 'id="group-invitations"' not in html and invited["pending"].email not in html
    assert client.get(group_url(team, groups.trainers, "/invitations")).status_code == 403


def test_an_outsider_gets_404(client, auth, team, groups, invited):
    auth.login(team.outsider)
    assert client.get(group_url(team, groups.trainers, "/invitations")).status_code == 404


def test_a_group_manager_cancels_inline_with_htmx(client, auth, team, groups, invited):
    auth.login(groups.gina)
    pending = invited["pending"]
    response = client.post_form(action_url(team, pending, "cancel", groups.trainers),
                                {"confirmed": "yes"}, htmx=True)
    assert response.status_code == 200
    html = page_text(response)
    assert f'<tr id="invitation-{pending.id}">' in html and "Cancelled" in html
    assert "The invitation of pending@example.com is cancelled." in html
    assert status_of(pending) == Status.CANCELLED


def test_without_javascript_a_group_manager_is_asked_then_sent_back_to_the_group(client, auth, team, groups, invited):
    auth.login(groups.gina)
    pending = invited["pending"]
    url = action_url(team, pending, "cancel", groups.trainers)
    asking = client.post_form(url)
    html = page_text(asking)
    assert asking.status_code == 200 and "Cancel the invitation of pending@example.com?" in html
    # The confirm page posts back to the same address, and "No" goes back to the group.
    assert f'action="{url}"' in html
    assert f'href="{group_url(team, groups.trainers)}#group-invitations"' in html
    assert status_of(pending) == Status.PENDING
    done = client.post_form(url, {"confirmed": "yes"})
    assert done.status_code == 302
    assert done.headers["Location"] == f"{group_url(team, groups.trainers)}#group-invitations"
    assert status_of(pending) == Status.CANCELLED


def test_a_group_manager_resends_their_groups_invitation(client, auth, team, groups, invited):
    auth.login(groups.gina)
    pending = invited["pending"]
    before = pending.token_hash
    response = client.post_form(action_url(team, pending, "resend", groups.trainers))
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/groups/{groups.trainers.id}#group-invitations")
    db.session.expire_all()
    assert db.session.get(Invitation, pending.id).token_hash != before  # a new link


@pytest.mark.parametrize("name", ["both", "as_manager", "coaches", "none"])
@pytest.mark.parametrize("action", ["cancel", "resend"])
def test_a_group_manager_may_not_touch_other_invitations(client, auth, team, groups, invited, name, action):
    auth.login(groups.gina)
    invitation = invited[name]
    before = invitation.token_hash
    for via in (groups.trainers, None):
        response = client.post_form(action_url(team, invitation, action, via), {"confirmed": "yes"})
        assert response.status_code == 403
    db.session.expire_all()
    again = db.session.get(Invitation, invitation.id)
    assert again.status == Status.PENDING and again.token_hash == before


def test_losing_the_manager_mark_loses_the_list(client, auth, team, groups, invited):
    auth.login(groups.gina)
    assert client.get(group_url(team, groups.trainers, "/invitations")).status_code == 200
    set_group_manager(team.org, team.owner, groups.trainers, groups.gina, False)
    db.session.commit()
    assert client.get(group_url(team, groups.trainers, "/invitations")).status_code == 403
    assert client.post_form(action_url(team, invited["pending"], "cancel", groups.trainers),
                            {"confirmed": "yes"}).status_code == 403
    assert status_of(invited["pending"]) == Status.PENDING


def test_another_organizations_group_in_from_group_is_a_404(client, auth, team, groups, invited, make_org, make_user):
    other = make_org(owner=make_user(name="Rita Rival"), name="Rival")
    rival_group = create_group(other, db.session.get(type(team.owner), other_owner(other)), "Rivals")
    db.session.commit()
    auth.login(team.owner)
    response = client.post_form(action_url(team, invited["pending"], "cancel", rival_group), {"confirmed": "yes"})
    assert response.status_code == 404
    assert status_of(invited["pending"]) == Status.PENDING
    assert client.get(f"/o/{team.org.slug}/groups/{rival_group.id}/invitations").status_code == 404


def other_owner(org):
    from invites.orgs.models import Membership
    return db.session.scalar(db.select(Membership.user_id).filter_by(org_id=org.id, role=Role.OWNER))


def test_the_list_is_paginated_and_a_page_comes_alone_for_htmx(app, client, auth, team, groups, make_invitation):
    app.config["PAGE_SIZE"] = 2
    for i in range(5):
        make_invitation(team.org, team.owner, f"p{i}@example.com", groups=[groups.trainers])
    auth.login(groups.gina)
    first = page_text(client.get(group_url(team, groups.trainers)))
    assert "p4@example.com" in first and "p0@example.com" not in first  # newest first
    assert f'href="{group_url(team, groups.trainers, "/invitations")}?page=2"' in first
    third = page_text(client.get(group_url(team, groups.trainers, "/invitations?page=3"),
                                 headers={"HX-Request": "true"}))
    assert third.lstrip().startswith('<section id="group-invitations"')
    assert "p0@example.com" in third and "p4@example.com" not in third
    assert "<html" not in third
    # Without JavaScript the same address is the group's page showing that page.
    page = page_text(client.get(group_url(team, groups.trainers, "/invitations?page=3")))
    assert "<html" in page and "p0@example.com" in page and "Members" in page


def test_the_group_page_costs_the_same_queries_for_3_or_20_invitations(client, auth, team, groups, count_queries, make_invitation):
    auth.login(groups.gina)

    def measure():
        client.get(group_url(team, groups.trainers))  # warm: the same path each time
        with count_queries() as statements:
            assert client.get(group_url(team, groups.trainers)).status_code == 200
        return list(statements)

    for i in range(3):
        make_invitation(team.org, team.owner, f"q{i}@example.com", groups=[groups.trainers, groups.coaches])
    few = measure()
    for i in range(3, 20):
        make_invitation(team.org, team.owner, f"q{i}@example.com", groups=[groups.trainers])
    many = measure()
    assert len(many) == len(few), "\n".join(" ".join(s.split())[:160] for s in many)


def test_the_rule_reads_the_invitations_groups(team, groups, invited):
    """policy "invitations.manage": staff any; a group's managers the group and the
    invitations all of whose groups they manage, up to Member."""
    gina = groups.gina
    assert policy.can(gina, "invitations.manage", team.org, groups.trainers)
    assert not policy.can(gina, "invitations.manage", team.org, groups.coaches)
    assert not policy.can(gina, "invitations.manage", team.org)  # the panel stays staff-only
    assert policy.can(gina, "invitations.manage", team.org, invited["pending"])
    for name in ("both", "as_manager", "coaches", "none"):
        assert not policy.can(gina, "invitations.manage", team.org, invited[name]), name
    for staff in (team.owner, team.manager):
        assert policy.can(staff, "invitations.manage", team.org, invited["none"])
    assert not policy.can(team.collaborator, "invitations.manage", team.org, groups.trainers)


# --- The Invitations panel's group filter -------------------------------------------------

def test_the_panel_filters_by_group_and_keeps_it_in_the_poll_and_pages(app, client, auth, team, groups, invited):
    auth.login(team.manager)
    panel = f"/o/{team.org.slug}/manage/invitations"
    html = page_text(client.get(panel))
    assert '<select id="invitation-group" name="group">' in html
    assert f'<option value="{groups.coaches.id}" >Coaches</option>' in html
    html = page_text(client.get(f"{panel}?group={groups.coaches.id}"))
    assert "coach@example.com" in html and "both@example.com" in html
    assert "pending@example.com" not in html and "nogroup@example.com" not in html
    assert f'<option value="{groups.coaches.id}" selected>' in html
    assert f"group={groups.coaches.id}" in re.search(r'<div id="invitations-table"\s+hx-get="([^"]+)"', html).group(1)
    # With the status filter too.
    html = page_text(client.get(f"{panel}?group={groups.trainers.id}&status=declined"))
    assert "declined@example.com" in html and "pending@example.com" not in html
    # Pagination links keep the group.
    app.config["PAGE_SIZE"] = 2
    html = page_text(client.get(f"{panel}?group={groups.trainers.id}"))
    assert f"group={groups.trainers.id}" in re.search(r'<a href="([^"]+)" rel="next">', html).group(1)


def test_the_panel_ignores_a_group_of_another_organization(client, auth, team, groups, invited, make_org, make_user):
    other = make_org(owner=make_user(name="Rita Rival"), name="Rival")
    rival_group = create_group(other, db.session.get(type(team.owner), other_owner(other)), "Rivals")
    db.session.commit()
    auth.login(team.owner)
    html = page_text(client.get(f"/o/{team.org.slug}/manage/invitations?group={rival_group.id}"))
    assert "nogroup@example.com" in html and "coach@example.com" in html  # unfiltered
    assert "Rivals" not in html


def test_the_panel_stays_403_for_a_group_manager(client, auth, team, groups):
    auth.login(groups.gina)
    assert client.get(f"/o/{team.org.slug}/manage/invitations").status_code == 403


def test_the_panel_offers_the_first_groups_and_keeps_a_chosen_one_beyond_them(client, auth, team, make_invitation):
    from invites.groups.models import Group
    from invites.invitations import routes as invitation_routes

    limit = invitation_routes.FILTER_GROUPS
    db.session.add_all(Group(org_id=team.org.id, name=f"Cohort {i:04d}") for i in range(limit + 5))
    db.session.commit()
    last = db.session.scalar(db.select(Group).filter_by(org_id=team.org.id, name=f"Cohort {limit + 4:04d}"))
    make_invitation(team.org, team.owner, "late@example.com", groups=[last])
    auth.login(team.owner)
    html = client.get(f"/o/{team.org.slug}/manage/invitations").get_data(as_text=True)
    assert len(re.findall(r'<option value="\d+"', html)) == limit
    assert f"The first {limit} groups by name" in html and "Cohort 0000" in html
    assert f">Cohort {limit + 4:04d}</option>" not in html
    html = client.get(f"/o/{team.org.slug}/manage/invitations?group={last.id}").get_data(as_text=True)
    assert f'<option value="{last.id}" selected>Cohort {limit + 4:04d}</option>' in html
    assert "late@<wbr>example<wbr>.com" in html
