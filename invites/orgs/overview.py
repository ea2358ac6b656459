"""The Overview of an organization: what needs its staff now, and how people came in.

Read-only, and like ``home.py`` it reads across the concepts (invitations, links, join
requests) without any of them importing it. Every figure is one aggregate query or one
limited list on an index, so the page costs the same number of queries at any size:
:func:`staff_overview` runs six, :func:`member_overview` three or four.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import ColumnElement, ScalarSelect, and_, case, func, literal, or_, select
from sqlalchemy.orm import joinedload, selectinload

from invites.clock import now
from invites.extensions import db
from invites.groups.models import Group, GroupMember
from invites.invitations.models import Invitation, Status
from invites.join_requests.models import JoinRequest, RequestStatus
from invites.links.models import InviteLink
from invites.orgs.models import JoinedVia, Membership

if TYPE_CHECKING:
    from invites.accounts.models import User
    from invites.orgs.models import Organization

LIST_LIMIT = 5  # each list shows the first few and links to its panel
EXPIRING_DAYS = 3  # "expiring soon": within this many days
FUNNEL_WINDOWS = (30, 90)  # days
WEEKS = 13  # joins per week: this week and the 12 before (about 90 days)
MEMBER_GROUPS_LIMIT = 20
COUNT_CAP = 10_000  # counts stop one past this
# The funnel's stages after "sent", in the order they are shown.
OUTCOMES = (Status.ACCEPTED, Status.DECLINED, Status.EXPIRED, Status.PENDING, Status.CANCELLED)


@dataclass
class Counts:
    """The four numbers at the top, each the size of what its panel lists, counted up to
    :data:`COUNT_CAP` and one more (shown "10,000+"), so counting costs the same at any size,
    as the panels' own page counts do. A seat limit (a later issue) adds ``seats`` here,
    beside ``members``."""

    members: int
    pending_invitations: int
    waiting_requests: int
    active_links: int

    @staticmethod
    def show(count: int) -> str:
        return f"{COUNT_CAP:,}+" if count > COUNT_CAP else f"{count:,}"


@dataclass
class Funnel:
    """Invitations sent in the last ``days`` days, by what became of them."""

    days: int
    sent: int
    outcomes: dict[str, int]

    def rows(self) -> list[tuple[str, str, int]]:
        """(status, label, count) for "Sent" then each outcome."""
        return [("sent", "Sent", self.sent)] + [
            (status, Status.LABELS[status], self.outcomes[status]) for status in OUTCOMES
        ]


@dataclass
class Week:
    """Joins in the week starting ``start`` (a Monday, UTC), by way in (None: unknown)."""

    start: datetime
    by_way: dict[str | None, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(self.by_way.values())


@dataclass
class StaffOverview:
    counts: Counts
    waiting_requests: Sequence[JoinRequest]
    expiring_invitations: Sequence[Invitation]
    recent_joins: Sequence[Membership]
    funnels: list[Funnel]
    weeks: list[Week]

    @property
    def ways_seen(self) -> list[str | None]:
        """The ways in that brought someone during the weeks shown, in JoinedVia order
        (unknown last): the chart's legend and the table's columns."""
        seen = {way for week in self.weeks for way in week.by_way}
        return [way for way in (*JoinedVia.ALL, None) if way in seen]


@dataclass
class MemberOverview:
    groups: Sequence[Group]
    join_request: JoinRequest | None
    invitations: Sequence[Invitation]


def _pending_and_delivered(at: datetime) -> ColumnElement[bool]:
    """The Invitations panel's "Pending" filter, so the count matches the list it opens."""
    return and_(Invitation.status == Status.PENDING, Invitation.expires_at > at,
                Invitation.delivery_error.is_(None))


def counts(org: Organization, at: datetime | None = None) -> Counts:
    """Members, pending invitations, join requests waiting and usable invite links: one
    query of four counts, each on an index that starts with the organization and each
    stopping one past :data:`COUNT_CAP`."""
    at = at or now()

    def count_of(model: type, *where: ColumnElement[bool]) -> ScalarSelect[int]:
        capped = select(literal(1)).select_from(model).where(*where).limit(COUNT_CAP + 1).subquery()
        return select(func.count()).select_from(capped).scalar_subquery()

    row = db.session.execute(select(
        count_of(Membership, Membership.org_id == org.id),
        count_of(Invitation, Invitation.org_id == org.id, _pending_and_delivered(at)),
        count_of(JoinRequest, JoinRequest.org_id == org.id, JoinRequest.status == RequestStatus.PENDING),
        count_of(
            InviteLink, InviteLink.org_id == org.id, InviteLink.deleted_at.is_(None),
            or_(InviteLink.expires_at.is_(None), InviteLink.expires_at > at),
            or_(InviteLink.max_uses.is_(None), InviteLink.uses < InviteLink.max_uses),
        ),
    )).one()
    return Counts(*row)


def waiting_requests(org: Organization, limit: int = LIST_LIMIT) -> Sequence[JoinRequest]:
    """The join requests waiting longest, with who asked (one query)."""
    return db.session.scalars(
        select(JoinRequest)
        .options(joinedload(JoinRequest.user), joinedload(JoinRequest.link))
        .where(JoinRequest.org_id == org.id, JoinRequest.status == RequestStatus.PENDING)
        .order_by(JoinRequest.created_at, JoinRequest.id)
        .limit(limit)
    ).all()


def expiring_invitations(
    org: Organization, at: datetime | None = None, days: int = EXPIRING_DAYS, limit: int = LIST_LIMIT
) -> Sequence[Invitation]:
    """Pending invitations that expire within ``days`` days, soonest first (one query)."""
    at = at or now()
    return db.session.scalars(
        select(Invitation)
        .where(Invitation.org_id == org.id, Invitation.status == Status.PENDING,
               Invitation.expires_at > at, Invitation.expires_at <= at + timedelta(days=days))
        .order_by(Invitation.expires_at, Invitation.id)
        .limit(limit)
    ).all()


def recent_joins(org: Organization, limit: int = LIST_LIMIT) -> Sequence[Membership]:
    """The newest memberships with their people, newest first (one query)."""
    return db.session.scalars(
        select(Membership)
        .options(joinedload(Membership.user))
        .where(Membership.org_id == org.id)
        .order_by(Membership.created_at.desc(), Membership.id.desc())
        .limit(limit)
    ).all()


def funnels(
    org: Organization, at: datetime | None = None, windows: Sequence[int] = FUNNEL_WINDOWS
) -> list[Funnel]:
    """For each window of days, the invitations created in it by shown status (a pending
    one past its expiry counts as expired): one GROUP BY over the longest window."""
    at = at or now()
    shown = case(
        (and_(Invitation.status == Status.PENDING, Invitation.expires_at <= at), Status.EXPIRED),
        else_=Invitation.status,
    ).label("shown")
    starts = {days: at - timedelta(days=days) for days in windows}
    per_window = [
        func.sum(case((Invitation.created_at >= start, 1), else_=0)) for start in starts.values()
    ]
    rows = db.session.execute(
        select(shown, *per_window)
        .where(Invitation.org_id == org.id, Invitation.created_at >= min(starts.values()))
        .group_by(shown)
    ).all()
    result = []
    for index, days in enumerate(windows):
        outcomes = dict.fromkeys(OUTCOMES, 0)
        for row in rows:
            outcomes[row[0]] = int(row[index + 1] or 0)
        result.append(Funnel(days, sum(outcomes.values()), outcomes))
    return result


def week_start(at: datetime) -> datetime:
    """Monday 00:00 of ``at``'s week."""
    day = at.replace(hour=0, minute=0, second=0, microsecond=0)
    return day - timedelta(days=day.weekday())


def joins_per_week(org: Organization, at: datetime | None = None, weeks: int = WEEKS) -> list[Week]:
    """New memberships in each of the last ``weeks`` weeks (oldest first, this week last),
    by way in: one GROUP BY over a window of the (org_id, created_at) index. The week is
    picked by comparing with each Monday, which reads the same on SQLite and PostgreSQL."""
    at = at or now()
    starts = [week_start(at) - timedelta(weeks=n) for n in range(weeks - 1, -1, -1)]
    bucket = case(
        *[(Membership.created_at >= start, index) for index, start in reversed(list(enumerate(starts)))]
    ).label("week")
    rows = db.session.execute(
        select(bucket, Membership.joined_via, func.count())
        .where(Membership.org_id == org.id, Membership.created_at >= starts[0])
        .group_by(bucket, Membership.joined_via)
    ).all()
    result = [Week(start) for start in starts]
    for index, way, count in rows:
        result[index].by_way[way] = count
    return result


def staff_overview(org: Organization, at: datetime | None = None) -> StaffOverview:
    """Everything the owners' and managers' Overview shows: six queries at any size."""
    at = at or now()
    return StaffOverview(
        counts=counts(org, at),
        waiting_requests=waiting_requests(org),
        expiring_invitations=expiring_invitations(org, at),
        recent_joins=recent_joins(org),
        funnels=funnels(org, at),
        weeks=joins_per_week(org, at),
    )


def member_overview(org: Organization, user: User, at: datetime | None = None) -> MemberOverview:
    """A member's or collaborator's Overview: their groups (the first few by name), their
    own waiting join request and their open invitations here (none until their address is
    confirmed, as on the dashboard). Three queries, and one for the invitations' groups."""
    at = at or now()
    groups = db.session.scalars(
        select(Group)
        .join(GroupMember, GroupMember.group_id == Group.id)
        .where(Group.org_id == org.id, GroupMember.user_id == user.id)
        .order_by(func.lower(Group.name), Group.id)
        .limit(MEMBER_GROUPS_LIMIT)
    ).all()
    join_request = db.session.scalar(
        select(JoinRequest)
        .where(JoinRequest.org_id == org.id, JoinRequest.user_id == user.id,
               JoinRequest.status == RequestStatus.PENDING)
        .limit(1)
    )
    invitations: Sequence[Invitation] = []
    if user.is_verified:
        invitations = db.session.scalars(
            select(Invitation)
            .options(selectinload(Invitation.groups))
            .where(Invitation.org_id == org.id, Invitation.email == user.email,
                   Invitation.status == Status.PENDING, Invitation.expires_at > at)
            .order_by(Invitation.created_at.desc())
            .limit(LIST_LIMIT)
        ).all()
    return MemberOverview(groups, join_request, invitations)
