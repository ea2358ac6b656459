"""Reading invitations: the panel's pages and its poll, a person's open invitations, the
"To" autocomplete, and the row lock that resending, cancelling and answering take first."""
from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from functools import cache
from typing import TYPE_CHECKING, Any

from sqlalchemy import ColumnElement, DateTime, Row, Select, bindparam, func
from sqlalchemy.orm import QueryableAttribute, joinedload, load_only, selectinload
from sqlalchemy.orm.strategy_options import _AbstractLoad

from invites import policy
from invites.accounts.models import User
from invites.clock import now
from invites.extensions import db
from invites.groups.models import Group
from invites.invitations.models import Invitation, Status, invitation_groups
from invites.orgs.models import Membership
from invites.pagination import Page, PageQuery, page_query, run_page
from invites.searching import ESCAPE, containing, escape_like

if TYPE_CHECKING:
    from flask_sqlalchemy.pagination import Pagination

    from invites.orgs.models import Organization

FILTERS = (Status.PENDING, Status.NOT_DELIVERED, Status.EXPIRED, Status.ACCEPTED,
           Status.DECLINED, Status.CANCELLED)


def _status_clause(status: str, at: ColumnElement[datetime]) -> ColumnElement[bool]:
    pending = Invitation.status == Status.PENDING
    if status == Status.PENDING:
        return pending & (Invitation.expires_at > at) & Invitation.delivery_error.is_(None)
    if status == Status.NOT_DELIVERED:
        return pending & (Invitation.expires_at > at) & Invitation.delivery_error.is_not(None)
    if status == Status.EXPIRED:
        return pending & (Invitation.expires_at <= at)
    return Invitation.status == status


def filtered_invitations(
    org: Organization, status: str | None = None, search: str | None = None,
    group_id: int | None = None,
) -> Select[tuple[Invitation]]:
    """The Invitations panel's rows, newest first: ``org``'s invitations with this shown
    status (one of ``FILTERS``; anything else: every status), an address containing
    ``search``, and the group ``group_id`` among their groups (the caller loads it through
    ``org``). The CSV export (``invites/exports``) streams it and the JSON API pages it;
    the panel pages the same statement (:func:`page_of_invitations`)."""
    shape = _shape(status, search, group_id)
    return _filtered(*shape).params(_values(org, shape, search, group_id))


# The filters a statement is built for: the status (one of FILTERS, or None for every
# status), whether an address is searched, whether a group is chosen.
Shape = tuple[str | None, bool, bool]


def _shape(status: str | None, search: str | None, group_id: int | None) -> Shape:
    return (status if status in FILTERS else None, bool(search), group_id is not None)


@cache
def _filtered(status: str | None, searching: bool, grouped: bool) -> Select[tuple[Invitation]]:
    """:func:`filtered_invitations` built once for each ``Shape``: the organization
    (``:org_id``), the time the status is read at (``:at``), the address's LIKE pattern
    (``:search``) and the group (``:group_id``) are bound when it runs (:func:`_values`)."""
    query = (
        db.select(Invitation)
        .where(Invitation.org_id == bindparam("org_id"))
        .order_by(Invitation.created_at.desc(), Invitation.id.desc())
    )
    if status is not None:
        query = query.where(_status_clause(status, bindparam("at", type_=DateTime)))
    if searching:
        query = query.where(Invitation.email.like(bindparam("search"), escape=ESCAPE))
    if grouped:
        query = query.where(db.exists().where(
            invitation_groups.c.invitation_id == Invitation.id,
            invitation_groups.c.group_id == bindparam("group_id"),
        ))
    return query


def _values(org: Organization, shape: Shape, search: str | None, group_id: int | None) -> dict[str, Any]:
    status, searching, grouped = shape
    values: dict[str, Any] = {"org_id": org.id}
    if status is not None:
        values["at"] = now()
    if searching:
        values["search"] = containing((search or "").strip().lower())
    if grouped:
        values["group_id"] = group_id
    return values


def page_of_invitations(
    org: Organization, page: int, per_page: int, status: str | None = None,
    search: str | None = None, group_id: int | None = None,
) -> Page:
    """The page ``page`` of :func:`filtered_invitations`. One query, whatever the
    numbers: the page's rows with their inviter, acceptor and groups joined, the bounded
    count and the panel's version (``page.carried["version"]``, see :func:`panel_version`)."""
    shape = _shape(status, search, group_id)
    result = run_page(_page_query(*shape), page, per_page, _values(org, shape, search, group_id))
    result.carried["version"] = _version(result.carried["version"])
    return result


# What a row of the panel reads of an invitation (and the policy, for a group's managers).
ROW_COLUMNS = (
    Invitation.org_id, Invitation.email, Invitation.role, Invitation.status, Invitation.inviter_id,
    Invitation.accepted_user_id, Invitation.import_id, Invitation.expires_at, Invitation.sent_at,
    Invitation.delivery_error, Invitation.responded_at, Invitation.reminded_at, Invitation.created_at,
    Invitation.access_until,
)


@cache
def _page_query(status: str | None, searching: bool, grouped: bool) -> PageQuery:
    """The panel's statements for one ``Shape``, built once (every poll of the panel runs
    them: building them cost more than running them)."""
    query = _filtered(status, searching, grouped).options(
        # Only what a row shows (invitations/_row.html): fewer columns to read and objects
        # to fill, and no token hash read for a page. Any other column raises if a row asks.
        load_only(*ROW_COLUMNS, raiseload=True),
        joinedload(Invitation.inviter).load_only(User.name, User.username),
        joinedload(Invitation.accepted_user).load_only(User.name, User.username),
        joinedload(Invitation.groups).load_only(Group.name),
    )
    return page_query(query, carry={"version": _latest_change(bindparam("org_id")).scalar_subquery()})


def _latest_change(org_id: int | ColumnElement[int]) -> Select[Any]:
    return db.select(func.max(Invitation.updated_at)).where(Invitation.org_id == org_id)


def _version(latest: datetime | None) -> str:
    return latest.isoformat() if latest else "-"


def panel_version(org: Organization) -> str:
    """Changes whenever any invitation of ``org`` changes (invitations are never deleted,
    and a new one has the newest ``updated_at``): the panel polls with it. One lookup on
    the (org_id, updated_at) index; a page of invitations reads it with its rows."""
    return _version(db.session.scalar(_latest_change(org.id)))


def card_loading(via: QueryableAttribute[Invitation] | None = None) -> list[_AbstractLoad]:
    """Loader options for an invitation shown as a card to its invitee (organization,
    inviter, groups), reached directly or through the relationship ``via``."""
    if via is None:
        return [joinedload(Invitation.org), joinedload(Invitation.inviter), selectinload(Invitation.groups)]
    return [joinedload(via).joinedload(Invitation.org), joinedload(via).joinedload(Invitation.inviter),
            joinedload(via).selectinload(Invitation.groups)]


def open_invitations_for(user: User, limit: int = 20) -> Sequence[Invitation]:
    """Pending, unexpired invitations sent to ``user``'s address, across organizations;
    none until the address is confirmed (security review F1)."""
    if not user.is_verified:
        return []
    return db.session.scalars(
        db.select(Invitation)
        .options(*card_loading())
        .where(Invitation.email == user.email, Invitation.status == Status.PENDING,
               Invitation.expires_at > now())
        .order_by(Invitation.created_at.desc())
        .limit(limit)
    ).all()


def search_members(
    org: Organization, viewer: User, text: str | None, limit: int = 8
) -> Sequence[Row[tuple[User, str]]]:
    """Members of ``org`` matching a username prefix or a name fragment, for the "To"
    autocomplete. Only this organization's members; staff may also match by email."""
    text = (text or "").strip().lstrip("@").lower()[:100]
    if len(text) < 1:
        return []
    pattern = escape_like(text)
    clauses = [User.username.like(f"{pattern}%", escape=ESCAPE),
               func.lower(User.name).like(f"%{pattern}%", escape=ESCAPE)]
    if policy.role_of(viewer, org) in policy.STAFF:
        clauses.append(User.email.like(f"{pattern}%", escape=ESCAPE))
    return db.session.execute(
        db.select(User, Membership.role)
        .join(Membership, Membership.user_id == User.id)
        .where(Membership.org_id == org.id, User.id != viewer.id, db.or_(*clauses))
        .order_by(User.name)
        .limit(limit)
    ).all()


def lock_invitation(invitation: Invitation) -> Invitation:
    """Re-read the row under a lock so two answers at once are applied one after the other.
    The inviter comes in the same query (re-reading resets what was loaded with it, and
    answering, resending and the webhook event all read the inviter); only the
    invitation's row is locked."""
    return db.session.scalar(
        db.select(Invitation)
        .options(joinedload(Invitation.inviter))
        .where(Invitation.id == invitation.id)
        .with_for_update(of=Invitation)
        .execution_options(populate_existing=True)
    )
