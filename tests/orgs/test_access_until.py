"""Access that ends on a date (issue 19, part 2): every way in may set the last day of
access of those it admits, the Members panel shows and changes it, and ``flask
expire-memberships`` warns a week before and removes at the end, with a frozen clock and
a real SMTP server."""
from datetime import date, datetime, timedelta

import pytest

from invites import clock
from invites.activity.models import Activity
from invites.extensions import db
from invites.groups.models import GroupMember
from invites.groups.service import create_group
from invites.imports.models import Import
from invites.invitations import answering
from invites.invitations.models import Invitation
from invites.join_page import service as join_pages
from invites.links.models import InviteLink
from invites.links.service import use_link
from invites.notifications.models import Notification
from invites.orgs.access import longer
from invites.orgs.admission import admit
from invites.orgs.expiry import expire_memberships
from invites.orgs.models import Membership, Role
from tests.invitations.test_races import run_at_once

START = datetime(2026, 3, 2, 9, 0)
LAST_DAY = date(2026, 3, 31)
END = datetime(2026, 4, 1)  # the end of the last day, UTC


@pytest.fixture
def at_start(app):
    clock.freeze(START)
    yield START


def membership(org, person):
    return db.session.scalar(db.select(Membership).filter_by(org_id=org.id, user_id=person.id))


# --- every way in ---------------------------------------------------------------------------

def test_an_invitation_carries_the_last_day_to_whoever_accepts(at_start, app, client, auth, team, make_user):
    auth.login(team.owner)
    response = client.post_form(f"/o/{team.org.slug}/invitations/new", {
        "addresses": "cohort@example.com", "role": "member", "access_until": LAST_DAY.isoformat(),
    })
    assert response.status_code == 302
    invitation = db.session.scalar(db.select(Invitation).filter_by(email="cohort@example.com"))
    assert invitation.access_until == END
    panel = client.get(f"/o/{team.org.slug}/manage/invitations").get_data(as_text=True)
    assert "Access until Mar 31, 2026" in panel
    person = make_user(email="cohort@example.com")
    with app.test_request_context():
        answering.accept_invitation(invitation, person)
        db.session.commit()
    assert membership(team.org, person).access_until == END


def test_a_past_last_day_is_a_form_error_and_sends_nothing(at_start, client, auth, team):
    auth.login(team.owner)
    response = client.post_form(f"/o/{team.org.slug}/invitations/new", {
        "addresses": "late@example.com", "role": "member", "access_until": "2026-03-01",
    })
    assert response.status_code == 422
    assert "Pick a last day of access that is not in the past." in response.get_data(as_text=True)
    assert db.session.scalar(db.select(db.func.count(Invitation.id))) == 0


def test_an_invite_link_gives_its_end_and_says_so(at_start, app, client, auth, team, make_user):
    auth.login(team.owner)
    response = client.post_form(f"/o/{team.org.slug}/links/new", {
        "expiration": "7d", "access": "anyone", "role": "member", "access_until": LAST_DAY.isoformat(),
    })
    link = db.session.scalar(db.select(InviteLink))
    assert link.access_until == END
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Until Mar 31, 2026" in page
    person = make_user()
    with app.test_request_context():
        use_link(link, person)
        db.session.commit()
    assert membership(team.org, person).access_until == END


def test_the_join_web_page_gives_its_end(at_start, app, client, auth, team, make_user):
    team.org.plan = "premium"
    db.session.commit()
    auth.login(team.owner)
    response = client.post_form(f"/o/{team.org.slug}/manage/join-page", {
        "enabled": "y", "slug": "acme-cohort", "allowed_domains": "", "access_until": LAST_DAY.isoformat(),
    })
    assert response.status_code == 302
    page = join_pages.page_of(team.org)
    assert page.access_until == END
    assert "access of people joining through the Join Web Page to the end of 2026-03-31" in db.session.scalar(
        db.select(Activity.summary).filter_by(verb="join_page.access_changed"))
    person = make_user()
    join_pages.join(page, person)
    db.session.commit()
    assert membership(team.org, person).access_until == END


def test_an_import_gives_its_end_to_its_invitations(at_start, client, auth, team):
    team.org.plan = "premium"
    db.session.commit()
    auth.login(team.owner)
    from io import BytesIO
    response = client.post_form(f"/o/{team.org.slug}/imports", {
        "file": (BytesIO(b"email,groups\nimported@example.com,\n"), "cohort.csv"),
        "access_until": LAST_DAY.isoformat(),
    }, content_type="multipart/form-data")
    assert response.status_code == 302, response.get_data(as_text=True)[:300]
    imp = db.session.scalar(db.select(Import))
    assert imp.access_until == END
    client.post_form(f"/o/{team.org.slug}/imports/{imp.id}/run", {"confirmed": "yes"})
    invitation = db.session.scalar(db.select(Invitation).filter_by(email="imported@example.com"))
    assert invitation is not None and invitation.access_until == END


def test_being_let_in_again_only_ever_extends_access(at_start, app, team, make_user):
    assert longer(None, END) is None and longer(END, None) is None
    assert longer(END, END + timedelta(days=3)) == END + timedelta(days=3)
    person = make_user()
    group = create_group(team.org, team.owner, "Later cohort")
    other = create_group(team.org, team.owner, "Earlier cohort")
    db.session.commit()

    def let_in(groups, until):
        admit(team.org, person, Role.MEMBER, groups, verb="link.used", describe=lambda a: "joined",
              access_until=until)
        db.session.commit()
        return membership(team.org, person).access_until

    assert let_in([], END) == END
    assert let_in([group], END + timedelta(days=30)) == END + timedelta(days=30)
    assert let_in([other], END) == END + timedelta(days=30)  # an earlier end never shortens
    assert let_in([], None) is None  # a way in without an end lifts it


# --- the Members panel ---------------------------------------------------------------------

def test_owners_set_and_clear_a_members_last_day_on_the_panel(at_start, client, auth, team):
    auth.login(team.owner)
    m = membership(team.org, team.member)
    url = f"/o/{team.org.slug}/members/{m.id}/access"
    row = client.post_form(url, {"access_until": LAST_DAY.isoformat()}, htmx=True)
    assert row.status_code == 200
    html = row.get_data(as_text=True)
    assert f'id="member-{m.id}"' in html and 'value="2026-03-31"' in html
    db.session.expire_all()
    assert membership(team.org, team.member).access_until == END
    assert db.session.scalar(db.select(Activity.summary).filter_by(verb="member.access_changed")) \
        == f"set {team.member.name}'s access to the end of 2026-03-31 (UTC)"
    panel = client.get(f"/o/{team.org.slug}/manage/members").get_data(as_text=True)
    assert 'value="2026-03-31"' in panel
    assert client.post_form(url, {"access_until": ""}).status_code == 302  # without JavaScript
    db.session.expire_all()
    assert membership(team.org, team.member).access_until is None
    verbs = db.session.scalars(db.select(Activity.summary).filter_by(verb="member.access_changed")).all()
    assert len(verbs) == 2 and verbs[-1].endswith("access to no end")


def test_a_past_day_or_an_owners_end_is_refused_and_managers_only_read(at_start, client, auth, team):
    auth.login(team.owner)
    m = membership(team.org, team.member)
    client.post_form(f"/o/{team.org.slug}/members/{m.id}/access", {"access_until": "2026-03-01"})
    owner = membership(team.org, team.owner)
    client.post_form(f"/o/{team.org.slug}/members/{owner.id}/access", {"access_until": LAST_DAY.isoformat()})
    db.session.expire_all()
    assert membership(team.org, team.member).access_until is None
    assert membership(team.org, team.owner).access_until is None
    assert db.session.scalar(db.select(db.func.count(Activity.id)).filter_by(verb="member.access_changed")) == 0
    m.access_until = END
    db.session.commit()
    auth.logout()
    auth.login(team.manager)
    assert client.post_form(f"/o/{team.org.slug}/members/{m.id}/access", {"access_until": ""}).status_code == 403
    panel = client.get(f"/o/{team.org.slug}/manage/members").get_data(as_text=True)
    assert "Access until Mar 31, 2026" in panel and 'name="access_until"' not in panel
    db.session.expire_all()
    assert membership(team.org, team.member).access_until == END


# --- flask expire-memberships ---------------------------------------------------------------

def ends(org, person, until):
    m = membership(org, person)
    m.access_until = until
    db.session.commit()
    return m


def run_at(app, at, **options):
    """One run of the command's work at ``at``, in its own app context (as cron runs it)."""
    clock.freeze(at)
    with app.app_context():
        run = expire_memberships(**options)
    db.session.expire_all()
    return run


def test_warned_a_week_before_then_removed_at_the_end_with_groups_and_a_log(app, team, smtp, make_user, add_member):
    clock.freeze(START)
    group = create_group(team.org, team.owner, "Spring cohort")
    soon, later, gone = make_user(name="Sam Soon"), make_user(name="Lee Later"), make_user(name="Gil Gone")
    for person in (soon, later, gone):
        add_member(team.org, person)
        db.session.add(GroupMember(group_id=group.id, user_id=person.id))
    db.session.commit()
    ends(team.org, soon, START + timedelta(days=3))
    ends(team.org, later, START + timedelta(days=10))
    ends(team.org, gone, START - timedelta(hours=1))
    ends(team.org, team.owner, START - timedelta(days=1))  # set directly: owners are never removed

    run = run_at(app, START)
    assert (run.removed, run.warned, run.failed) == (1, 1, {})
    assert membership(team.org, gone) is None
    assert db.session.scalar(db.select(GroupMember).filter_by(user_id=gone.id)) is None
    assert membership(team.org, team.owner) is not None and membership(team.org, later).access_warned_at is None
    [line] = db.session.scalars(db.select(Activity).filter_by(verb="member.access_ended")).all()
    assert line.actor_id is None and line.summary.startswith("Gil Gone's access ended (last day Mar 2, 2026)")
    [mail] = smtp.to(soon.email)
    assert mail["Subject"] == "Your access to Acme Training ends on Mar 5, 2026"
    assert "ends at the end of Mar 5, 2026 (UTC)" in smtp.text(mail)
    for staff in (team.owner, team.manager):
        [summary] = smtp.to(staff.email)
        assert summary["Subject"] == "Access ending soon in Acme Training"
        assert "Sam Soon: Mar 5, 2026" in smtp.text(summary)
        assert db.session.scalar(db.select(Notification.text).filter_by(user_id=staff.id, kind="access_ending_staff")) \
            == "The access of 1 member of Acme Training ends within days: Sam Soon."
    assert smtp.to(team.member.email) == [] and smtp.to(later.email) == []
    assert db.session.scalar(db.select(Notification.text).filter_by(user_id=gone.id)) \
        == "Your access to Acme Training ended on Mar 2, 2026."

    again = run_at(app, START + timedelta(minutes=5))  # cron again: nothing twice
    assert (again.removed, again.warned) == (0, 0) and len(smtp.messages) == 3

    last = run_at(app, START + timedelta(days=4))
    assert (last.removed, last.warned) == (1, 1)
    assert membership(team.org, soon) is None and len(smtp.to(later.email)) == 1


def test_a_refused_warning_is_tried_again_next_run(app, team, smtp, make_user, add_member):
    clock.freeze(START)
    person = make_user()
    add_member(team.org, person)
    ends(team.org, person, START + timedelta(days=2))
    smtp.fail_with(lambda n, envelope: "550 mailbox unavailable" if person.email in envelope.rcpt_tos else None)
    run = run_at(app, START)
    assert run.warned == 0 and list(run.failed) == [person.email]
    assert membership(team.org, person).access_warned_at is None
    smtp.fail_with(None)
    assert run_at(app, START + timedelta(hours=1)).warned == 1
    assert len(smtp.to(person.email)) == 1


def test_a_new_last_day_is_warned_of_again(app, client, auth, team, smtp, make_user, add_member):
    clock.freeze(START)
    person = make_user()
    add_member(team.org, person)
    ends(team.org, person, START + timedelta(days=2))
    run_at(app, START)
    auth.login(team.owner)
    m = membership(team.org, person)
    client.post_form(f"/o/{team.org.slug}/members/{m.id}/access", {"access_until": "2026-03-06"})
    db.session.expire_all()
    assert membership(team.org, person).access_warned_at is None
    run_at(app, START + timedelta(hours=2))
    assert [m["Subject"] for m in smtp.to(person.email)] == [
        "Your access to Acme Training ends on Mar 4, 2026", "Your access to Acme Training ends on Mar 6, 2026"]


def test_the_command_reports_what_it_did(app, team, smtp, make_user, add_member):
    clock.freeze(START)
    person = make_user()
    add_member(team.org, person)
    ends(team.org, person, START - timedelta(minutes=1))
    result = app.test_cli_runner().invoke(args=["expire-memberships", "--warn-days", "3"])
    assert result.exit_code == 0, result.output
    assert "Memberships whose access ended, removed: 1; members warned: 0." in result.output


@pytest.mark.postgres_only
def test_three_runners_at_once_remove_and_warn_each_membership_once(app, team, smtp, make_user, add_member):
    clock.freeze(START)
    people = [make_user() for _ in range(24)]
    for n, person in enumerate(people):
        add_member(team.org, person)
        ends(team.org, person, START - timedelta(hours=1) if n % 2 else START + timedelta(days=2))
    runs = run_at_once(app, [expire_memberships] * 3)
    assert sum(run.removed for run in runs) == 12 and sum(run.warned for run in runs) == 12, runs
    assert db.session.scalar(db.select(db.func.count(Activity.id)).filter_by(verb="member.access_ended")) == 12
    warned = [p for n, p in enumerate(people) if not n % 2]
    assert sorted(len(smtp.to(p.email)) for p in warned) == [1] * 12
