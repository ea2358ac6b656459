"""The Overview of an organization: what needs its staff now, and how people came in.

Read-only, and like ``home.py`` it reads across the concepts (invitations, links, join
requests) without any of them importing it. Every figure is one aggregate query or one
limited list on an index, so the page costs the same number of queries at any size:
:func:`staff_overview` runs three, :func:`member_overview` three.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    ColumnElement, ScalarSelect, Select, String, and_, case, cast, func, literal, not_, or_, select, union_all,
)
from sqlalchemy.orm import joinedload

from invites import policy
from invites.clock import now
from invites.extensions import db
from invites.groups.models import Group, GroupMember
from invites.invitations.models import Invitation, InvitationDay, Status
from invites.join_requests.models import JoinRequest, RequestStatus
from invites.links.models import InviteLink
from invites.orgs.models import JoinedVia, Membership, MembershipDay
from invites.orgs.seats import seat_limit

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
    as the panels' own page counts do. ``seats``: the organization's seat limit, if any
    (:func:`invites.orgs.seats.seat_limit`, read without a query), beside ``members``."""

    members: int
    pending_invitations: int
    waiting_requests: int
    active_links: int
    seats: int | None = None

    @property
    def free_seats(self) -> int | None:
        """Seats still free (0 when full or over the limit); None without a limit."""
        return None if self.seats is None else max(0, self.seats - self.members)

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


def _count_columns(org: Organization, at: datetime) -> list[ScalarSelect[int]]:
    """Members, pending invitations, join requests waiting and usable invite links, each
    on an index that starts with the organization and each stopping one past
    :data:`COUNT_CAP`."""

    def count_of(model: type, *where: ColumnElement[bool]) -> ScalarSelect[int]:
        capped = select(literal(1)).select_from(model).where(*where).limit(COUNT_CAP + 1).subquery()
        return select(func.count()).select_from(capped).scalar_subquery()

    return [
        count_of(Membership, Membership.org_id == org.id),
        count_of(Invitation, Invitation.org_id == org.id, _pending_and_delivered(at)),
        count_of(JoinRequest, JoinRequest.org_id == org.id, JoinRequest.status == RequestStatus.PENDING),
        count_of(
            InviteLink, InviteLink.org_id == org.id, InviteLink.deleted_at.is_(None),
            or_(InviteLink.expires_at.is_(None), InviteLink.expires_at > at),
            or_(InviteLink.max_uses.is_(None), InviteLink.uses < InviteLink.max_uses),
        ),
    ]


def counts(org: Organization, at: datetime | None = None) -> Counts:
    """The four numbers at the top, in one query."""
    return _counts(org, db.session.execute(select(*_count_columns(org, at or now()))).one())


def _counts(org: Organization, figures: Sequence[Any]) -> Counts:
    members, pending, waiting, links = map(int, figures)
    return Counts(members, pending, waiting, links, seats=seat_limit(org))


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


def _recent_joins_query(org: Organization, limit: int) -> Select[Any]:
    return (
        select(Membership)
        .options(joinedload(Membership.user))
        .where(Membership.org_id == org.id)
        .order_by(Membership.created_at.desc(), Membership.id.desc())
        .limit(limit)
    )


def recent_joins(org: Organization, limit: int = LIST_LIMIT) -> Sequence[Membership]:
    """The newest memberships with their people, newest first (one query)."""
    return db.session.scalars(_recent_joins_query(org, limit)).all()


def _funnel_column(org: Organization, at: datetime, windows: Sequence[int]) -> ScalarSelect[str | None]:
    """For each shown status (a pending invitation past its expiry counts as expired), how
    many invitations created in each window of days have it, as one string of
    ``"<status>:<count in window 1>:<count in window 2>…"`` cells joined by commas (a
    scalar, so it rides along with another query).

    It reads the counts per day (``invitation_days``, kept by the database) for the days
    after the one each window starts in, and invitations themselves only where a day's
    count can't say: those made on the day a window starts (part of it is outside), and
    pending ones expiring today (expired or not, by the minute). So it costs the same at any
    size, as long as a day does not hold thousands of invitations."""
    starts = [at - timedelta(days=days) for days in windows]
    first = min(starts)
    today = at.date()
    # Whole days: a pending invitation whose day of expiry is over has expired; one that
    # expires after today has not; today's are read one by one.
    counted = InvitationDay
    expiring_today = and_(counted.status == Status.PENDING, counted.expires_day == today)
    from_days = select(
        case((and_(counted.status == Status.PENDING, counted.expires_day < today), Status.EXPIRED),
             else_=counted.status).label("shown"),
        *[case((counted.day > start.date(), counted.invitations), else_=0).label(f"in_{n}")
          for n, start in enumerate(starts)],
    ).where(counted.org_id == org.id, counted.day > first.date(), not_(expiring_today))
    # One by one: a window's first day, and the pending invitations expiring today.
    midnight = datetime.combine(today, time())
    pending_today = and_(Invitation.status == Status.PENDING, Invitation.expires_at >= midnight,
                         Invitation.expires_at < midnight + timedelta(days=1))
    first_days = [and_(Invitation.created_at >= start, Invitation.created_at < _next_midnight(start))
                  for start in starts]
    from_rows = select(
        case((and_(Invitation.status == Status.PENDING, Invitation.expires_at <= at), Status.EXPIRED),
             else_=Invitation.status).label("shown"),
        *[case((or_(first_day, and_(pending_today, Invitation.created_at >= start)), 1), else_=0).label(f"in_{n}")
          for n, (start, first_day) in enumerate(zip(starts, first_days))],
    ).where(Invitation.org_id == org.id, Invitation.created_at >= first, or_(*first_days, pending_today))
    both = union_all(from_days, from_rows).subquery("counted")
    grouped = (
        select(both.c.shown, *[func.sum(both.c[f"in_{n}"]).label(f"in_{n}") for n in range(len(starts))])
        .group_by(both.c.shown)
        .subquery("funnels")
    )
    cell: ColumnElement[Any] = grouped.c.shown
    for n in range(len(starts)):
        cell = cell + ":" + cast(grouped.c[f"in_{n}"], String)
    return select(func.aggregate_strings(cell, ",")).select_from(grouped).scalar_subquery()


def _next_midnight(at: datetime) -> datetime:
    return datetime.combine(at.date() + timedelta(days=1), time())


def _funnels_from(cells: str | None, windows: Sequence[int]) -> list[Funnel]:
    counts = {status: [0] * len(windows) for status in OUTCOMES}
    for cell in filter(None, (cells or "").split(",")):
        status, *numbers = cell.split(":")
        if status in counts:
            counts[status] = [int(number) for number in numbers]
    result = []
    for index, days in enumerate(windows):
        outcomes = {status: counts[status][index] for status in OUTCOMES}
        result.append(Funnel(days, sum(outcomes.values()), outcomes))
    return result


def funnels(
    org: Organization, at: datetime | None = None, windows: Sequence[int] = FUNNEL_WINDOWS
) -> list[Funnel]:
    """For each window of days, the invitations created in it by shown status (one query)."""
    return _funnels_from(db.session.scalar(select(_funnel_column(org, at or now(), windows))), windows)


def week_start(at: datetime) -> datetime:
    """Monday 00:00 of ``at``'s week."""
    day = at.replace(hour=0, minute=0, second=0, microsecond=0)
    return day - timedelta(days=day.weekday())


def _week_starts(at: datetime, weeks: int) -> list[datetime]:
    return [week_start(at) - timedelta(weeks=n) for n in range(weeks - 1, -1, -1)]


def _weeks_column(org: Organization, starts: Sequence[datetime]) -> ScalarSelect[str | None]:
    """Memberships that began in each week since ``starts[0]`` (Mondays, midnight UTC), by
    way in, as one string of ``"<week>:<way>:<count>"`` cells joined by commas (a scalar,
    so it rides along with another query): the counts per day (``membership_days``, kept
    by the database) summed by week, a few hundred rows at any size."""
    counted = MembershipDay
    bucket = case(
        *[(counted.day >= start.date(), index) for index, start in reversed(list(enumerate(starts)))]
    )
    joins = func.sum(counted.members)
    grouped = (
        select(bucket.label("week"), counted.way.label("way"), joins.label("joins"))
        .where(counted.org_id == org.id, counted.day >= starts[0].date())
        .group_by(bucket, counted.way)
        .having(joins > 0)  # a day's count stays at 0 once its members have left
        .subquery("weeks")
    )
    cell = cast(grouped.c.week, String) + ":" + grouped.c.way + ":" + cast(grouped.c.joins, String)
    return select(func.aggregate_strings(cell, ",")).select_from(grouped).scalar_subquery()


def _weeks_from(cells: str | None, starts: Sequence[datetime]) -> list[Week]:
    result = [Week(start) for start in starts]
    for cell in filter(None, (cells or "").split(",")):
        index, way, count = cell.split(":")
        result[int(index)].by_way[way or None] = int(count)
    return result


def joins_per_week(org: Organization, at: datetime | None = None, weeks: int = WEEKS) -> list[Week]:
    """New memberships in each of the last ``weeks`` weeks (oldest first, this week last),
    by way in (one query)."""
    starts = _week_starts(at or now(), weeks)
    return _weeks_from(db.session.scalar(select(_weeks_column(org, starts))), starts)


def staff_overview(org: Organization, at: datetime | None = None) -> StaffOverview:
    """Everything the owners' and managers' Overview shows, in three queries at any size:
    the newest members carrying every figure (the four counts, the funnels and the weeks,
    as scalar columns, which PostgreSQL reads once for all the rows), the join requests waiting, and the invitations expiring."""
    at = at or now()
    starts = _week_starts(at, WEEKS)
    carried: list[ColumnElement[Any]] = [
        *_count_columns(org, at), _weeks_column(org, starts).label("weeks"),
        _funnel_column(org, at, FUNNEL_WINDOWS).label("funnels"),
    ]
    rows = db.session.execute(_recent_joins_query(org, LIST_LIMIT).add_columns(*carried)).all()
    # An organization always has its owner; a row to carry the figures is there.
    first = rows[0] if rows else db.session.execute(select(*carried)).one()
    offset = 1 if rows else 0
    return StaffOverview(
        counts=_counts(org, first[offset:offset + 4]),
        waiting_requests=waiting_requests(org),
        expiring_invitations=expiring_invitations(org, at),
        recent_joins=[row[0] for row in rows],
        funnels=_funnels_from(first.funnels, FUNNEL_WINDOWS),
        weeks=_weeks_from(first.weeks, starts),
    )


def member_overview(org: Organization, user: User, at: datetime | None = None) -> MemberOverview:
    """A member's or collaborator's Overview: their groups (the first few by name), their
    own waiting join request and their open invitations here (none until their address is
    confirmed, as on the dashboard), with the invitations' groups joined, and whether they
    manage a group (for the page's "may invite") with their groups: three queries."""
    at = at or now()
    rows = db.session.execute(
        select(Group, policy.manages_a_group(user, org).label("manages"))
        .join(GroupMember, GroupMember.group_id == Group.id)
        .where(Group.org_id == org.id, GroupMember.user_id == user.id)
        .order_by(func.lower(Group.name), Group.id)
        .limit(MEMBER_GROUPS_LIMIT)
    ).all()
    groups = [row[0] for row in rows]
    # In no group, one manages none: the page's "may invite" asks no more.
    policy.remember_manages_a_group(user, org, bool(rows and rows[0].manages))
    join_request = db.session.scalar(
        select(JoinRequest)
        .options(joinedload(JoinRequest.link))
        .where(JoinRequest.org_id == org.id, JoinRequest.user_id == user.id,
               JoinRequest.status == RequestStatus.PENDING)
        .limit(1)
    )
    invitations: Sequence[Invitation] = []
    if user.is_verified:
        invitations = db.session.scalars(
            select(Invitation)
            .options(joinedload(Invitation.groups))
            .where(Invitation.org_id == org.id, Invitation.email == user.email,
                   Invitation.status == Status.PENDING, Invitation.expires_at > at)
            .order_by(Invitation.created_at.desc())
            .limit(LIST_LIMIT)
        ).unique().all()
    return MemberOverview(groups, join_request, invitations)
