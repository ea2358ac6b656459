"""Who may mail strangers, and how much: the daily caps on invitation mails (F19).

Every invitation mail (a new invitation, a resend, an imported row, a shared invite link)
is charged here before it is sent, to the account that sends it and the organization it
is sent from. An account whose address is not confirmed sends none: anyone can register,
and the platform's sender must not become theirs (security review F4).
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from flask import current_app
from sqlalchemy import func
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from invites.clock import now
from invites.errors import DomainError
from invites.extensions import db
from invites.mail.models import MailQuotaUsage
from invites.orgs.models import lock_organization
from invites.transaction import on_postgresql

if TYPE_CHECKING:
    from invites.accounts.models import User
    from invites.orgs.models import Organization


class QuotaExceeded(DomainError):
    """Sending would pass a daily cap, or the sender may not send mail at all."""

    code = "quota_exceeded"


def daily_caps(org: Organization) -> dict[str, int]:
    """``{"organization": n, "account": n}`` for ``org``'s plan (config DAILY_INVITATION_MAILS)."""
    caps = current_app.config["DAILY_INVITATION_MAILS"]
    return caps.get(org.plan, caps["free"])


def sent_today(org: Organization, user: User) -> tuple[int, int]:
    """(mails sent from ``org`` today by anyone, mails sent today by ``user`` from any
    organization), in one query."""
    today = now().date()
    by_org = func.coalesce(func.sum(MailQuotaUsage.sent).filter(MailQuotaUsage.org_id == org.id), 0)
    by_user = func.coalesce(func.sum(MailQuotaUsage.sent).filter(MailQuotaUsage.user_id == user.id), 0)
    row = db.session.execute(
        db.select(by_org, by_user).where(
            MailQuotaUsage.day == today,
            (MailQuotaUsage.org_id == org.id) | (MailQuotaUsage.user_id == user.id),
        )
    ).one()
    return int(row[0]), int(row[1])


def check_may_send(sender: User) -> None:
    """Refuse an account whose address is not confirmed (code "unconfirmed_address")."""
    if not sender.is_verified:
        raise DomainError(
            "Confirm your email address before sending invitations: follow the link we "
            "emailed you, or ask for a new one on your dashboard.",
            code="unconfirmed_address",
        )


def charge(org: Organization, sender: User, count: int) -> None:
    """Count ``count`` invitation mails about to go from ``org`` by ``sender``; refuse
    (nothing counted) an unconfirmed sender, or (QuotaExceeded) a batch that would pass
    the organization's or the account's cap for today. The caller's transaction keeps
    the count: a batch refused later, or rolled back, is not charged."""
    check_may_send(sender)
    if count <= 0:
        return
    today = now().date()
    # The day's row exists before anyone counts (two first sends of the day at once both
    # inserted it: a unique violation), and the organization's row is locked, so sends
    # from one organization are counted one after the other, never both under the cap.
    insert = postgresql_insert if on_postgresql() else sqlite_insert
    db.session.execute(insert(MailQuotaUsage).values(org_id=org.id, user_id=sender.id, day=today, sent=0)
                       .on_conflict_do_nothing(index_elements=["org_id", "user_id", "day"]))
    lock_organization(org)
    caps = daily_caps(org)
    by_org, by_account = sent_today(org, sender)
    plan = org.plan.capitalize()
    if by_account + count > caps["account"]:
        raise QuotaExceeded(
            f"An account may send {caps['account']} invitation emails a day on the {plan} plan; "
            f"you have sent {by_account} today, and this would send {count} more. Nothing was "
            "sent. The count starts again at midnight UTC."
        )
    if by_org + count > caps["organization"]:
        raise QuotaExceeded(
            f"{org.name} may send {caps['organization']} invitation emails a day on the {plan} "
            f"plan; {by_org} went out today, and this would send {count} more. Nothing was "
            "sent. The count starts again at midnight UTC."
        )
    db.session.execute(
        db.update(MailQuotaUsage).filter_by(org_id=org.id, user_id=sender.id, day=today)
        .values(sent=MailQuotaUsage.sent + count).execution_options(synchronize_session=False)
    )
