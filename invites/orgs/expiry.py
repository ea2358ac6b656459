"""Access that ends on a date (issue 19): ``flask expire-memberships``, run by cron.

A membership's access ends at ``access_until`` (:mod:`invites.orgs.access`). Each run:

1. **Removes** every membership whose end has come, with its rows in the organization's
   groups, and logs each in the activity log ("access ended"); the person gets a bell.
   An owner is never removed (owners' access does not end).
2. **Warns** of every end within ``warn_days`` (7 unless told otherwise) that was not
   warned of yet: the member by mail and bell, and once per run and organization its
   owners and managers, by one bell and one mail that list whose access ends when.

Several runners at once (cron on several machines) never act on one membership twice:
each membership is its own transaction that claims the row first, with ``FOR UPDATE SKIP
LOCKED`` on PostgreSQL, and on any database by a conditional statement (the DELETE still
finds the end due, the UPDATE still finds no warning). A member's warning mail is sent
while the claim is held and committed only once it went: a mail server that fails loses
nothing, and the next run warns again. The staff's summary goes out after the members'
warnings are committed; if it fails, the run says so and the bells stand.
"""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Select
from sqlalchemy.orm import joinedload

from invites.activity.service import record
from invites.clock import now
from invites.extensions import db
from invites.mail.service import MailDeliveryError, Message, build_message, connection, external_url
from invites.notifications.service import notify
from invites.orgs.models import Membership, Organization, Role
from invites.orgs.service import leave_groups
from invites.transaction import claim_first
from invites.times import show_day
from invites.webhooks.outbox import emit

WARN_DAYS = 7


@dataclass
class Run:
    """What one run did: memberships removed, members warned, and the addresses the mail
    server refused, with why (their warning is tried again next run)."""

    removed: int = 0
    warned: int = 0
    failed: dict[str, str] = field(default_factory=dict)


def expire_memberships(at: datetime | None = None, warn_days: int = WARN_DAYS) -> Run:
    """Remove the memberships whose access ended by ``at`` (now), then warn of those
    ending within ``warn_days``; one transaction per membership."""
    at = at or now()
    run = Run()
    while (membership := _claim(_due(at))) is not None:
        if _remove(membership, at):
            run.removed += 1
            db.session.commit()
        else:
            db.session.rollback()  # another runner removed it a moment ago
    warned: dict[int, list[Membership]] = defaultdict(list)
    passed_over: set[int] = set()
    with connection() as send:
        while (membership := _claim(_ending(at, warn_days, passed_over))) is not None:
            outcome = _warn(membership, at, send)
            if outcome == "sent":
                run.warned += 1
                warned[membership.org_id].append(membership)
                db.session.commit()
            elif outcome is None:
                db.session.rollback()
            else:
                run.failed[membership.user.email] = outcome
                passed_over.add(membership.id)
                db.session.rollback()
        for ending in warned.values():
            _tell_staff(ending, send, run)
    return run


def _claim(query: Select[Any]) -> Membership | None:
    """The first membership of ``query`` that no other runner holds, locked (PostgreSQL)
    for this transaction, with its person and organization."""
    claimed: Membership | None = claim_first(
        query.options(joinedload(Membership.user), joinedload(Membership.org)), of=Membership)
    return claimed


def _due(at: datetime) -> Select[Any]:
    return (db.select(Membership)
            .where(Membership.access_until <= at, Membership.role != Role.OWNER)
            .order_by(Membership.access_until, Membership.id))


def _ending(at: datetime, warn_days: int, passed_over: set[int]) -> Select[Any]:
    query = (db.select(Membership)
             .where(Membership.access_until > at, Membership.access_until <= at + timedelta(days=warn_days),
                    Membership.access_warned_at.is_(None), Membership.role != Role.OWNER)
             .order_by(Membership.access_until, Membership.id))
    return query.where(Membership.id.not_in(passed_over)) if passed_over else query


def _remove(membership: Membership, at: datetime) -> bool:
    """Delete the membership if its end is still due as read (one conditional DELETE, so
    two runners without row locks cannot both go on), then its group rows; log it and
    ring the person's bell. False when another runner was first."""
    org, user, last_day = membership.org, membership.user, membership.access_last_day
    gone = db.session.execute(
        db.delete(Membership)
        .where(Membership.id == membership.id, Membership.access_until <= at, Membership.role != Role.OWNER)
        .execution_options(synchronize_session=False)
    )
    if gone.rowcount != 1:  # type: ignore[attr-defined]
        return False
    emit(org, "member.removed", membership, how="access_ended")  # as it was, still in memory
    db.session.expunge(membership)
    leave_groups(org, user.id)
    record(org, None, "member.access_ended",
           f"{user.name}'s access ended (last day {show_day(last_day)}): removed from the organization and its groups",
           user)
    notify(user, "access_ended", f"Your access to {org.name} ended on {show_day(last_day)}.", org)
    return True


def _warn(membership: Membership, at: datetime, send: Callable[[Message], None]) -> str | None:
    """Mark the warning given if none was (a conditional UPDATE), mail the member and ring
    their bell: "sent", None when another runner was first, or the mail server's reason."""
    marked = db.session.execute(
        db.update(Membership)
        .where(Membership.id == membership.id, Membership.access_warned_at.is_(None))
        .values(access_warned_at=at)
        .execution_options(synchronize_session=False)
    )
    if marked.rowcount != 1:  # type: ignore[attr-defined]
        return None
    org, user, last_day = membership.org, membership.user, show_day(membership.access_last_day)
    try:
        send(build_message(
            user.email, f"Your access to {org.name} ends on {last_day}", "access_ending",
            org=org, user=user, last_day=last_day, url=external_url("orgs.show", slug=org.slug),
        ))
    except MailDeliveryError as error:
        return str(error)[:500] or "refused"
    notify(user, "access_ending", f"Your access to {org.name} ends at the end of {last_day} (UTC).", org)
    emit(org, "member.access_ending", membership)
    return "sent"


def _tell_staff(ending: list[Membership], send: Callable[[Message], None], run: Run) -> None:
    """One bell and one mail to each owner and manager of the organization of ``ending``
    (warned this run), listing whose access ends when."""
    org: Organization = ending[0].org
    listed = [(m.user.name, show_day(m.access_last_day)) for m in ending]
    names = ", ".join(name for name, _ in listed[:5]) + (f" and {len(listed) - 5} more" if len(listed) > 5 else "")
    text = (f"The access of {len(listed)} {'member' if len(listed) == 1 else 'members'} of {org.name} "
            f"ends within days: {names}.")
    staff = db.session.scalars(
        db.select(Membership).options(joinedload(Membership.user))
        .where(Membership.org_id == org.id, Membership.role.in_((Role.OWNER, Role.MANAGER)))
    ).all()
    for member in staff:
        notify(member.user, "access_ending_staff", text, org)
    db.session.commit()
    url = external_url("orgs.members", slug=org.slug)
    for member in staff:
        try:
            send(build_message(
                member.user.email, f"Access ending soon in {org.name}", "access_ending_staff",
                org=org, user=member.user, ending=listed, url=url,
            ))
        except MailDeliveryError as error:
            run.failed[member.user.email] = str(error)[:500] or "refused"
