"""Creating and reading in-app notifications (F15)."""
from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from flask_sqlalchemy.pagination import Pagination
from sqlalchemy import ColumnElement, Select, func
from sqlalchemy.orm import joinedload
from sqlalchemy.orm.strategy_options import _AbstractLoad

from invites.clock import now
from invites.extensions import db
from invites.notifications.models import Notification
from invites.pagination import paginate
from invites.per_request import memo

if TYPE_CHECKING:
    from invites.accounts.models import User
    from invites.invitations.models import Invitation
    from invites.orgs.models import Organization


def notify(
    user: User, kind: str, text: str, org: Organization | None = None,
    invitation: Invitation | None = None,
) -> Notification:
    """Add a notification for ``user``; the caller commits with the change it reports.

    Where it leads is decided when it is shown (from ``kind`` and ``org``), so no stored
    link can point outside the app.
    """
    entry = Notification(
        user_id=user.id,
        org_id=org.id if org is not None else None,
        kind=kind,
        text=text[:500],
        invitation_id=invitation.id if invitation is not None else None,
    )
    db.session.add(entry)
    memo("unread").pop(user.id, None)
    return entry


def renotify_invitation(user: User, invitation: Invitation, text: str) -> Notification:
    """One notification per invitation: a resend marks the existing one unread again."""
    entry = db.session.scalar(
        db.select(Notification).filter_by(user_id=user.id, invitation_id=invitation.id)
    )
    if entry is None:
        return notify(user, "invitation", text, org=invitation.org, invitation=invitation)
    entry.text = text[:500]
    entry.read_at = None
    entry.created_at = now()
    memo("unread").pop(user.id, None)
    return entry


BELL_LIMIT = 99  # the bell shows "99+" beyond


def unread_count_query(user_id: int | ColumnElement[int]) -> Select[Any]:
    """Unread notifications of an account (an id, or where the statement binds it), counted
    up to BELL_LIMIT + 1 only: someone with 100,000 unread ones must not make every page
    read them all."""
    unread = (
        db.select(Notification.id)
        .where(Notification.user_id == user_id, Notification.read_at.is_(None))
        .limit(BELL_LIMIT + 1)
        .subquery()
    )
    return db.select(func.count()).select_from(unread)


def remember_unread(user: User, count: int) -> None:
    """Keep ``user``'s unread count for this request (read with the account itself)."""
    memo("unread")[user.id] = count


def unread_count(user: User) -> int:
    """The bell's number: the count read with the account this request, or a query."""
    known = memo("unread").get(user.id)
    if known is None:
        known = memo("unread")[user.id] = db.session.scalar(unread_count_query(user.id)) or 0
    return int(known)


def page_of_notifications(
    user: User, page: int, per_page: int, loading: Sequence[_AbstractLoad] = (),
) -> Pagination:
    """Newest first. ``loading`` adds loader options for what the page shows of each
    notification's invitation (the invitations package owns those), so the page costs the
    same few queries however many rows it shows."""
    query = (
        db.select(Notification)
        .options(joinedload(Notification.org), *loading)
        .where(Notification.user_id == user.id)
        .order_by(Notification.created_at.desc(), Notification.id.desc())
    )
    return paginate(query, page, per_page)


def _mark_read(user: User, *where: ColumnElement[bool]) -> None:
    """Mark ``user``'s unread notifications that match ``where`` read, in one UPDATE."""
    db.session.execute(
        db.update(Notification)
        .where(Notification.user_id == user.id, Notification.read_at.is_(None), *where)
        .values(read_at=now())
    )
    memo("unread").pop(user.id, None)


def mark_read(user: User, notification: Notification) -> None:
    """"Mark as read" on one notification of ``user``."""
    _mark_read(user, Notification.id == notification.id)


def mark_all_read(user: User) -> None:
    """"Mark all as read": every unread notification of ``user``."""
    _mark_read(user)


def load_own(user: User, notification_id: int) -> Notification:
    """A notification of ``user`` by id, or 404."""
    return db.first_or_404(db.select(Notification).filter_by(id=notification_id, user_id=user.id))


def mark_invitation_read(user: User, invitation: Invitation) -> None:
    """An invitation answered from anywhere stops counting as unread in the bell."""
    _mark_read(user, Notification.invitation_id == invitation.id)
