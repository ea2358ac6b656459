"""Reminders before an invitation expires (issue 18): ``flask send-reminders``, run by cron.

An invitation's next reminder is due at ``remind_at``, set when it is sent or resent from
its organization's setting (:func:`invites.invitations.models.next_reminder`): halfway
through its life if chosen, and some days before it expires. Accepting, declining,
cancelling and resending stop the reminder due (a resend starts them over from the new
expiry); an invitation not delivered, or past its expiry, is skipped.

Several runners at once never remind an invitation twice: each reminder is its own
transaction that claims the row first, with ``FOR UPDATE SKIP LOCKED`` on PostgreSQL (a
row another runner is mailing is passed over) and, on any database, by the condition that
its ``remind_at`` is still what was read. The mail goes out while the claim is held, and
the claim is committed only once it went: a mail server that fails loses nothing, the
row stays due and the next run takes it. The first mail's token is only kept as a hash,
so a reminder carries a second link to the same invitation (``reminder_token_hash``).
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.orm import joinedload, selectinload

from invites.accounts.models import User
from invites.clock import now
from invites.extensions import db
from invites.invitations.messages import invitation_message
from invites.invitations.models import Invitation, Status, next_reminder
from invites.mail.service import MailDeliveryError, Message, connection
from invites.notifications.service import renotify_invitation
from invites.orgs.models import Organization
from invites.times import relative
from invites.tokens import hash_token, new_token
from invites.transaction import claim_first


@dataclass
class Run:
    """What one run did: reminders mailed, invitations passed over (answered meanwhile,
    expired, not delivered), and the addresses the mail server refused, with why."""

    sent: int = 0
    skipped: int = 0
    failed: dict[str, str] = field(default_factory=dict)


def send_due_reminders(at: datetime | None = None, limit: int | None = None) -> Run:
    """Mail every reminder due at ``at`` (now), one transaction each; at most ``limit``."""
    at = at or now()
    run = Run()
    passed_over: set[int] = set()  # refused by the mail server in this run: tried next run
    with connection() as send:
        while limit is None or run.sent < limit:
            invitation = _claim_next(at, passed_over)
            if invitation is None:
                break
            outcome = _remind(invitation, at, send)
            if outcome is None:
                run.skipped += 1
                db.session.commit()
            elif outcome == "sent":
                run.sent += 1
                db.session.commit()
            else:
                run.failed[invitation.email] = outcome
                passed_over.add(invitation.id)
                db.session.rollback()
    return run


def _claim_next(at: datetime, passed_over: set[int]) -> Invitation | None:
    """The earliest due invitation no other runner holds, locked (PostgreSQL) for this
    transaction, with what its mail shows."""
    query = (
        db.select(Invitation)
        .options(joinedload(Invitation.org), joinedload(Invitation.inviter), selectinload(Invitation.groups))
        .where(Invitation.remind_at <= at, Invitation.status == Status.PENDING)
        .order_by(Invitation.remind_at, Invitation.id)
    )
    if passed_over:
        query = query.where(Invitation.id.not_in(passed_over))
    claimed: Invitation | None = claim_first(query, of=Invitation)
    return claimed


def _remind(invitation: Invitation, at: datetime, send: Callable[[Message], None]) -> str | None:
    """Mail ``invitation``'s reminder and move its ``remind_at`` on: "sent", None when it
    is passed over (and no longer due), or the mail server's reason for refusing."""
    due = invitation.remind_at
    if invitation.expires_at <= at or invitation.delivery_error or invitation.inviter is None:
        _move_on(invitation, due, None)  # no reminder for it, now or later
        return None
    org: Organization = invitation.org
    token = new_token()
    if not _move_on(invitation, due, next_reminder(
        invitation.sent_at or invitation.created_at, invitation.expires_at,
        org.reminder_days_before, org.reminder_halfway, after=at,
    ), reminded_at=at, reminder_token_hash=hash_token(token)):
        return None  # another runner (SQLite has no row locks) took it first
    try:
        send(invitation_message(org, invitation, token, reminder_until=relative(invitation.expires_at, at)))
    except MailDeliveryError as error:
        return str(error)[:500] or "refused"
    account = db.session.scalar(db.select(User).where(User.email == invitation.email))
    if account is not None and account.is_verified:  # the bell only for a proven address
        renotify_invitation(account, invitation, f"Reminder: your invitation to join {org.name} "
                                                 f"expires {relative(invitation.expires_at, at)}.")
    return "sent"


def _move_on(invitation: Invitation, due: datetime | None, following: datetime | None, **values: object) -> bool:
    """Set the next reminder (and ``values``) if the row is still due as read: one
    conditional UPDATE, so two runners without row locks cannot both go on."""
    result = db.session.execute(
        db.update(Invitation)
        .where(Invitation.id == invitation.id, Invitation.remind_at == due, Invitation.status == Status.PENDING)
        .values(remind_at=following, **values)
        .execution_options(synchronize_session=False)
    )
    for name, value in {"remind_at": following, **values}.items():
        setattr(invitation, name, value)  # what the mail and bell read now, unsaved beyond the UPDATE
    return result.rowcount == 1  # type: ignore[attr-defined]


def reschedule(org: Organization, batch: int = 1_000) -> int:
    """After the organization's reminder setting changed: the next reminder of each of its
    open invitations, from the new setting (none already sent is sent again). Returns how
    many invitations were looked at."""
    at, last_id, seen = now(), 0, 0
    while True:
        rows = db.session.execute(
            db.select(Invitation.id, Invitation.sent_at, Invitation.created_at, Invitation.expires_at,
                      Invitation.reminded_at)
            .where(Invitation.org_id == org.id, Invitation.status == Status.PENDING,
                   Invitation.expires_at > at, Invitation.id > last_id)
            .order_by(Invitation.id).limit(batch)
        ).all()
        if not rows:
            return seen
        db.session.execute(db.update(Invitation), [
            {"id": row.id, "remind_at": next_reminder(
                row.sent_at or row.created_at, row.expires_at, org.reminder_days_before, org.reminder_halfway,
                after=max(at, row.reminded_at or at))}
            for row in rows
        ])
        last_id, seen = rows[-1].id, seen + len(rows)
