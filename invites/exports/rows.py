"""What each export holds, as plain functions of the organization that yield rows of
cells (no request needed: tests call them directly). Each export's columns are a table of
(header, cell of one record): adding a column is adding one line there.

Rows are read ``BATCH`` at a time (``yield_per``: a server-side cursor on PostgreSQL), so
an export of 100,000 rows holds one batch in memory, never the whole list. The functions
are generators: nothing is read before the response is being sent, inside the database
session ``stream_with_context`` gives it (the view's own session is closed, and a
server-side cursor opened there with it, once the view returns).
"""
from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from itertools import chain, groupby
from typing import Any, NamedTuple

from sqlalchemy import Row, Select, func
from sqlalchemy.orm import joinedload, selectinload

from invites.accounts.models import User
from invites.activity.models import Activity
from invites.exports.writing import utc_time
from invites.extensions import db
from invites.groups.models import Group, GroupMember
from invites.invitations.models import Invitation, Status
from invites.invitations.queries import filtered_invitations
from invites.join_requests.models import JoinRequest
from invites.orgs.access import last_day
from invites.orgs.models import JoinedVia, Membership, Organization, Role

BATCH = 1_000
LIST_SEPARATOR = "; "  # between the groups in one cell (group names may hold commas)

Cell = Callable[[Any], object]


@dataclass(frozen=True)
class Export:
    """One kind of export: ``name`` goes into the file's name; ``columns`` are its
    (header, cell) pairs, the cell a function of one record."""

    name: str
    columns: tuple[tuple[str, Cell], ...]

    @property
    def header(self) -> list[str]:
        return [header for header, _ in self.columns]

    def lines(self, records: Iterable[Any]) -> Iterator[list[object]]:
        for record in records:
            yield [cell(record) for _, cell in self.columns]


def _day(day: date | None) -> str:
    return day.isoformat() if day else ""


class Member(NamedTuple):
    """One member: ``row`` has every column of the membership and the account's name,
    email and username; ``groups`` are the names of their groups in the organization."""

    row: Row[Any]
    groups: list[str]


MEMBERS = Export("members", (
    ("Name", lambda m: m.row.name),
    ("Email", lambda m: m.row.email),
    ("Username", lambda m: m.row.username),
    ("Role", lambda m: Role.LABELS[m.row.role]),
    ("Groups", lambda m: LIST_SEPARATOR.join(m.groups)),
    ("Joined (UTC)", lambda m: utc_time(m.row.created_at)),
    ("Way in", lambda m: JoinedVia.label(m.row.joined_via)),  # as the Overview words it
    ("Last day of access", lambda m: _day(last_day(m.row.access_until))),  # empty: no end
))

INVITATIONS = Export("invitations", (
    ("Email", lambda i: i.email),
    ("Status", lambda i: i.status_label),
    ("Role", lambda i: i.role_label),
    ("Groups", lambda i: LIST_SEPARATOR.join(group.name for group in i.groups)),
    ("Invited by", lambda i: i.inviter.name if i.inviter else ""),
    ("Sent (UTC)", lambda i: utc_time(i.sent_at or i.created_at)),
    ("Expires (UTC)", lambda i: utc_time(i.expires_at) if i.status == Status.PENDING else ""),
    ("Answered (UTC)", lambda i: utc_time(i.responded_at)),
    # F9: the invitee's name is known only once they accepted.
    ("Accepted by", lambda i: i.accepted_user.name if i.accepted_user else ""),
    ("Not delivered because", lambda i: i.delivery_error or ""),
))

JOIN_REQUESTS = Export("join-requests", (
    ("Name", lambda r: r.user.name),
    ("Email", lambda r: r.user.email),
    ("Address confirmed", lambda r: "Yes" if r.user.is_verified else "No"),
    ("Requested (UTC)", lambda r: utc_time(r.created_at)),
    ("Via", lambda r: r.link.description if r.link else ""),
    ("Message", lambda r: r.message),
    ("Status", lambda r: r.status_label),
    ("Decided by", lambda r: r.decided_by.name if r.decided_by else ""),
    ("Decided (UTC)", lambda r: utc_time(r.decided_at)),
))

ACTIVITY = Export("activity", (
    ("When (UTC)", lambda a: utc_time(a.created_at)),
    ("Who", lambda a: a.actor.name if a.actor else ""),
    ("What", lambda a: a.summary),
    ("Action", lambda a: a.verb),
))


def in_batches(query: Select[Any]) -> Iterator[Sequence[Any]]:
    """The objects ``query`` selects, ``BATCH`` at a time."""
    yield from db.session.scalars(query.execution_options(yield_per=BATCH)).partitions()


def member_rows(org: Organization) -> Iterator[list[object]]:
    """Every member of ``org`` in the Members panel's order (owners first, then by name),
    with their groups by name. One query, read as plain rows (no objects to build): a
    member in several groups comes as consecutive rows, one a group, gathered here."""
    entries = (
        db.select(GroupMember.user_id, Group.id.label("group_id"), Group.name.label("group_name"))
        .join(Group, Group.id == GroupMember.group_id)
        .where(Group.org_id == org.id)
        .subquery()
    )
    query = (
        db.select(Membership.__table__, User.name, User.email, User.username, entries.c.group_name)
        .join(User, User.id == Membership.user_id)
        .outerjoin(entries, entries.c.user_id == Membership.user_id)
        .where(Membership.org_id == org.id)
        .order_by(Membership.role_order, Membership.sort_name, Membership.id,
                  func.lower(entries.c.group_name), entries.c.group_id)
    )
    found = db.session.execute(query.execution_options(yield_per=BATCH))
    members = (
        Member(first, [row.group_name for row in chain([first], rest) if row.group_name is not None])
        for _, (first, *rest) in groupby(found, key=lambda row: row.id)
    )
    yield from MEMBERS.lines(members)


def invitation_rows(
    org: Organization, status: str | None = None, search: str | None = None, group_id: int | None = None,
) -> Iterator[list[object]]:
    """The invitations the Invitations panel lists with these filters, in its order
    (``invitations.queries.filtered_invitations``)."""
    query = filtered_invitations(org, status, search, group_id).options(
        joinedload(Invitation.inviter), joinedload(Invitation.accepted_user),
        selectinload(Invitation.groups),  # per batch: a joined collection cannot be streamed
    )
    yield from INVITATIONS.lines(chain.from_iterable(in_batches(query)))


def join_request_rows(org: Organization) -> Iterator[list[object]]:
    """Every join request of ``org``, whatever its status, newest first."""
    query = (
        db.select(JoinRequest)
        .options(joinedload(JoinRequest.user, innerjoin=True), joinedload(JoinRequest.link),
                 joinedload(JoinRequest.decided_by))
        .where(JoinRequest.org_id == org.id)
        .order_by(JoinRequest.created_at.desc(), JoinRequest.id.desc())
    )
    yield from JOIN_REQUESTS.lines(chain.from_iterable(in_batches(query)))


def activity_rows(org: Organization) -> Iterator[list[object]]:
    """The whole activity log of ``org``, newest first, as the Activity panel pages it."""
    query = (
        db.select(Activity)
        .options(joinedload(Activity.actor))
        .where(Activity.org_id == org.id)
        .order_by(Activity.created_at.desc(), Activity.id.desc())
    )
    yield from ACTIVITY.lines(chain.from_iterable(in_batches(query)))
