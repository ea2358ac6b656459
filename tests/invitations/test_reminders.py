"""Reminders before an invitation expires (issue 18): ``flask send-reminders`` with a real
SMTP server and a frozen clock."""
from datetime import datetime, timedelta

import pytest

from invites import clock
from invites.extensions import db
from invites.invitations import answering, sending
from invites.invitations.models import Invitation, next_reminder
from invites.invitations.reminders import reschedule, send_due_reminders
from invites.notifications.models import Notification
from tests.invitations.test_races import run_at_once

START = datetime(2026, 3, 2, 9, 0)  # org lifetime 14 days: expires 16 March, reminded 14 March


def invite(app, make_invitation, team, email):
    clock.freeze(START)
    invitation, token = make_invitation(team.org, team.owner, email)
    return db.session.get(Invitation, invitation.id), token


def reminders_run(app, at):
    """One run of the command's work at ``at``, in its own app context (as cron runs it)."""
    clock.freeze(at)
    with app.app_context():
        run = send_due_reminders()
    db.session.expire_all()  # the test's own session reads what the run saved
    return run


def reminders_to(smtp, email):
    return [m for m in smtp.to(email) if m["Subject"].startswith("Reminder: ")]


# --- when -----------------------------------------------------------------------------------

def test_the_schedule_is_days_before_expiry_and_optionally_halfway():
    sent, expires = START, START + timedelta(days=14)
    assert next_reminder(sent, expires, 2, False, after=sent) == expires - timedelta(days=2)
    assert next_reminder(sent, expires, 2, True, after=sent) == START + timedelta(days=7)
    assert next_reminder(sent, expires, 2, True, after=START + timedelta(days=7)) == expires - timedelta(days=2)
    assert next_reminder(sent, expires, 2, True, after=expires - timedelta(days=2)) is None
    assert next_reminder(sent, expires, None, False, after=sent) is None
    assert next_reminder(sent, expires, None, True, after=sent) == START + timedelta(days=7)
    # A short life: "3 days before" a 2-day invitation would be before it was sent.
    assert next_reminder(sent, sent + timedelta(days=2), 3, False, after=sent) is None


# --- exactly once -------------------------------------------------------------------------------

def test_a_due_reminder_is_mailed_once_with_a_link_that_works(app, client, team, smtp, make_invitation):
    invitation, first_token = invite(app, make_invitation, team, "rita@example.com")
    assert invitation.remind_at == START + timedelta(days=12)

    assert reminders_run(app, START + timedelta(days=11)).sent == 0  # not yet due
    run = reminders_run(app, START + timedelta(days=12, minutes=5))
    assert (run.sent, run.failed) == (1, {})
    assert reminders_run(app, START + timedelta(days=12, minutes=10)).sent == 0  # once only

    [reminder] = reminders_to(smtp, "rita@example.com")
    assert "Reminder: Olivia Owner invited you to join Acme Training" == reminder["Subject"]
    assert "A reminder: this invitation expires in 2 days." in smtp.text(reminder)
    [link] = [url for url in smtp.links(reminder) if "/i/" in url]
    assert first_token not in link
    page = client.get(link.replace("http://localhost", ""))
    assert page.status_code == 200 and "Acme Training" in page.get_data(as_text=True)
    # The first mail's link works as well: both lead to the same invitation.
    assert client.get(f"/i/{first_token}").status_code == 200
    invitation = db.session.get(Invitation, invitation.id)
    assert invitation.reminded_at == START + timedelta(days=12, minutes=5) and invitation.remind_at is None


def test_halfway_and_before_expiry_when_both_are_chosen(app, team, smtp, make_invitation):
    team.org.reminder_halfway = True
    db.session.commit()
    invite(app, make_invitation, team, "hal@example.com")
    for day in (3, 7, 8, 12, 13):
        reminders_run(app, START + timedelta(days=day, minutes=1))
    assert len(reminders_to(smtp, "hal@example.com")) == 2
    texts = [smtp.text(m) for m in reminders_to(smtp, "hal@example.com")]
    assert "expires in 1 week" in texts[0] and "expires in 2 days" in texts[1]


def test_no_reminders_when_the_organization_chose_none(app, team, smtp, make_invitation):
    team.org.reminder_days_before = None
    db.session.commit()
    invitation, _ = invite(app, make_invitation, team, "nora@example.com")
    assert invitation.remind_at is None
    assert reminders_run(app, START + timedelta(days=13)).sent == 0


def test_changing_the_setting_reschedules_open_invitations(app, team, smtp, make_invitation):
    invitation, _ = invite(app, make_invitation, team, "sam@example.com")
    team.org.reminder_days_before = 5
    assert reschedule(team.org) == 1
    db.session.commit()
    assert db.session.get(Invitation, invitation.id).remind_at == START + timedelta(days=9)
    assert reminders_run(app, START + timedelta(days=9, minutes=1)).sent == 1


# --- what stops a reminder --------------------------------------------------------------------

@pytest.mark.parametrize("answer", ["accept", "decline", "cancel"])
def test_answering_or_cancelling_stops_the_reminder(app, team, smtp, make_invitation, make_user, answer):
    invitation, token = invite(app, make_invitation, team, "stop@example.com")
    invitee = make_user(email="stop@example.com")
    if answer == "accept":
        answering.accept_invitation(invitation, invitee, by_link=True)
    elif answer == "decline":
        answering.decline_invitation(invitation, invitee, by_link=True)
    else:
        sending.cancel_invitation(team.org, team.owner, invitation)
    db.session.commit()
    assert db.session.get(Invitation, invitation.id).remind_at is None
    assert reminders_run(app, START + timedelta(days=12, minutes=1)).sent == 0
    assert reminders_to(smtp, "stop@example.com") == []


def test_resending_starts_the_reminders_over_from_the_new_expiry(app, team, smtp, make_invitation):
    invitation, _ = invite(app, make_invitation, team, "again@example.com")
    clock.freeze(START + timedelta(days=10))
    with app.test_request_context():
        sending.resend_invitation(team.org, team.owner, db.session.get(Invitation, invitation.id),
                                  commit=db.session.commit)
        db.session.commit()
    assert reminders_run(app, START + timedelta(days=12, minutes=1)).sent == 0  # the old date
    assert reminders_run(app, START + timedelta(days=22, minutes=1)).sent == 1  # 2 days before the new one


def test_an_expired_or_undelivered_invitation_gets_no_reminder(app, team, smtp, make_invitation):
    late, _ = invite(app, make_invitation, team, "late@example.com")
    undelivered, _ = invite(app, make_invitation, team, "bounced@example.com")
    undelivered.delivery_error = "550 no such mailbox"
    db.session.commit()
    run = reminders_run(app, START + timedelta(days=15))  # both were due; the first has expired since
    assert (run.sent, run.skipped) == (0, 2)
    assert reminders_to(smtp, "late@example.com") == reminders_to(smtp, "bounced@example.com") == []
    assert db.session.get(Invitation, late.id).remind_at is None
    assert db.session.get(Invitation, undelivered.id).remind_at is None


# --- mail failures, the bell -----------------------------------------------------------------------

def test_a_refused_reminder_is_kept_for_the_next_run(app, team, smtp, make_invitation):
    invite(app, make_invitation, team, "one@example.com")
    invite(app, make_invitation, team, "two@example.com")
    smtp.fail_with(lambda n, envelope: "451 try later" if "one@" in envelope.rcpt_tos[0] else None)
    run = reminders_run(app, START + timedelta(days=12, minutes=1))
    assert run.sent == 1 and list(run.failed) == ["one@example.com"]
    assert len(reminders_to(smtp, "two@example.com")) == 1
    smtp.fail_with(None)
    run = reminders_run(app, START + timedelta(days=12, minutes=30))
    assert run.sent == 1 and len(reminders_to(smtp, "one@example.com")) == 1
    assert len(reminders_to(smtp, "two@example.com")) == 1  # not twice


def test_the_reminder_rings_a_confirmed_accounts_bell(app, team, smtp, make_invitation, make_user):
    user = make_user(email="bell@example.com")
    invite(app, make_invitation, team, "bell@example.com")
    reminders_run(app, START + timedelta(days=12, minutes=1))
    [note] = db.session.scalars(db.select(Notification).filter_by(user_id=user.id)).all()
    assert note.read_at is None and note.text == "Reminder: your invitation to join Acme Training expires in 2 days."


def test_the_command_reports_what_it_sent(app, team, smtp, make_invitation):
    invite(app, make_invitation, team, "cli@example.com")
    clock.freeze(START + timedelta(days=12, minutes=1))
    result = app.test_cli_runner().invoke(args=["send-reminders"])
    assert result.exit_code == 0, result.output
    assert "Reminders sent: 1" in result.output
    assert len(reminders_to(smtp, "cli@example.com")) == 1


# --- several runners --------------------------------------------------------------------------

@pytest.mark.postgres_only
def test_two_runners_at_once_remind_each_invitation_once(app, team, smtp, make_invitation):
    clock.freeze(START)
    addresses = [f"race{n}@example.com" for n in range(12)]
    with app.test_request_context():
        sending.send_invitations(team.org, team.owner, ", ".join(addresses[:10]), "member", [],
                                 commit=db.session.commit)
        sending.send_invitations(team.org, team.owner, ", ".join(addresses[10:]), "member", [],
                                 commit=db.session.commit)
        db.session.commit()
    clock.freeze(START + timedelta(days=12, minutes=1))
    runs = run_at_once(app, [send_due_reminders, send_due_reminders, send_due_reminders])
    assert sum(run.sent for run in runs) == 12, runs
    assert sorted(len(reminders_to(smtp, address)) for address in addresses) == [1] * 12


# --- the panels -----------------------------------------------------------------------------------

def test_owners_choose_reminders_under_permissions_and_open_invitations_follow(
    app, client, auth, team, smtp, make_invitation
):
    invitation, _ = invite(app, make_invitation, team, "perm@example.com")
    auth.login(team.owner)
    form = {"invitation_lifetime_days": "14", "reminder_days_before": "5", "reminder_halfway": "y",
            "managers_may_add_people": "y"}
    response = client.post_form(f"/o/{team.org.slug}/manage/permissions", form)
    assert response.status_code == 302
    db.session.expire_all()
    assert (team.org.reminder_days_before, team.org.reminder_halfway) == (5, True)
    assert db.session.get(Invitation, invitation.id).remind_at == START + timedelta(days=7)  # halfway first
    refused = client.post_form(f"/o/{team.org.slug}/manage/permissions", {**form, "reminder_days_before": "40"})
    assert refused.status_code == 200 and "Not a valid choice" in refused.get_data(as_text=True)
    client.post_form(f"/o/{team.org.slug}/manage/permissions", {**form, "reminder_days_before": "0",
                                                                    "reminder_halfway": ""})
    db.session.expire_all()
    assert team.org.reminder_days_before is None
    assert db.session.get(Invitation, invitation.id).remind_at is None


def test_the_panel_says_when_an_invitation_was_reminded(app, client, auth, team, smtp, make_invitation):
    invite(app, make_invitation, team, "shown@example.com")
    reminders_run(app, START + timedelta(days=12))
    clock.freeze(START + timedelta(days=13))
    auth.login(team.owner)
    html = client.get(f"/o/{team.org.slug}/manage/invitations").get_data(as_text=True)
    assert "Reminded <time" in html and ">1 day ago</time>" in html
    assert "an expired\n    invitation becomes pending again" in html


def test_renewing_an_expired_invitation_makes_it_pending_with_a_new_link(app, client, team, smtp, make_invitation):
    invitation, old_token = invite(app, make_invitation, team, "renew@example.com")
    clock.freeze(START + timedelta(days=20))
    assert db.session.get(Invitation, invitation.id).shown_status == "expired"
    with app.test_request_context():
        outcome = sending.resend_invitation(team.org, team.owner, db.session.get(Invitation, invitation.id),
                                            commit=db.session.commit)
        db.session.commit()
    renewed = db.session.get(Invitation, invitation.id)
    assert renewed.shown_status == "pending" and renewed.expires_at == START + timedelta(days=34)
    assert renewed.remind_at == START + timedelta(days=32)
    assert client.get(f"/i/{old_token}").status_code == 404  # the old link stays dead
    assert client.get(f"/i/{outcome.token}").status_code == 200
