"""Organizations, memberships and roles (F2, F3, F5, F6)."""
from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from datetime import date
from typing import Any

from flask_sqlalchemy.pagination import Pagination
from sqlalchemy import ColumnElement, Select, any_, func
from sqlalchemy.orm import contains_eager, joinedload, selectinload

from invites import policy
from invites.accounts.models import User
from invites.activity.service import record
from invites.errors import DomainError
from invites.extensions import db
from invites.groups.models import Group, GroupMember
from invites.invitations.reminders import reschedule as reschedule_reminders
from invites.orgs.access import end_of
from invites.orgs.models import JoinedVia, Membership, Organization, Plan, Role, lock_organization
from invites.pagination import Page, paginate
from invites.transaction import on_postgresql
from invites.webhooks.outbox import emit

RESERVED_SLUGS = {"new", "admin", "api", "static", "login", "logout", "register", "join", "o", "orgs"}

MAX_MEMBER_LIMIT = 1_000_000


def slugify(text: str) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")
    return slug[:60].strip("-")


def _unique_slug(base: str) -> str:
    base = base or "org"
    taken = set(
        db.session.scalars(
            db.select(Organization.slug).where(
                (Organization.slug == base) | Organization.slug.like(f"{base}-%")
            )
        )
    )
    if base not in taken and base not in RESERVED_SLUGS:
        return base
    n = 2
    while f"{base}-{n}" in taken:
        n += 1
    return f"{base}-{n}"


def create_organization(
    creator: User, name: str, slug: str | None = None, description: str | None = ""
) -> Organization:
    """Create an organization with ``creator`` as its owner, where only owners may add
    new people until they allow managers or members (seed 001).

    Refuses a creator whose address is not confirmed (an organization sends mail in the
    platform's name: security review F4), and a slug that is reserved or already used.
    """
    if not creator.is_verified:
        raise DomainError(
            "Confirm your email address before creating an organization: follow the link we "
            "emailed you, or ask for a new one on your dashboard."
        )
    name = name.strip()
    if not name:
        raise DomainError("Give the organization a name.", "name")
    if slug:
        slug = slug.strip().lower()
        if slug in RESERVED_SLUGS:
            raise DomainError("This short name is reserved; choose another.", "slug")
        if db.session.scalar(db.select(Organization.id).filter_by(slug=slug)):
            raise DomainError("This short name is taken; choose another.", "slug")
    else:
        slug = _unique_slug(slugify(name))
    # Seed 001: "By default, only admins can add new people"; owners extend it under
    # Permissions. Said here, not left to the column, so the choice reads where it is made.
    org = Organization(name=name, slug=slug, description=(description or "").strip(),
                       managers_may_add_people=False, members_may_add_people=False)
    db.session.add(org)
    db.session.flush()
    db.session.add(Membership(org_id=org.id, user_id=creator.id, role=Role.OWNER,
                              joined_via=JoinedVia.CREATED))
    record(org, creator, "org.created", f"created the organization {name}", org)
    return org


def memberships_of(user: User) -> Sequence[Membership]:
    """The user's memberships with their organizations, by organization name."""
    return db.session.scalars(
        db.select(Membership)
        .options(joinedload(Membership.org))
        .join(Membership.org)
        .where(Membership.user_id == user.id)
        .order_by(func.lower(Organization.name))
    ).all()


def page_of_members(
    org: Organization, page: int, per_page: int, search: str | None = None
) -> Pagination:
    """Members with their accounts, owners first, then by name, read in order from the
    (org_id, role_order, sort_name, id) index. ``search`` matches inside names, usernames
    and addresses, as typed: ``%`` and ``_`` are escaped, never wildcards. On PostgreSQL a
    search takes the shape that is quick for its term (``_search_members``)."""
    if not search:
        query = db.select(Membership).options(joinedload(Membership.user, innerjoin=True))
        return paginate(_in_order(query.where(Membership.org_id == org.id), Membership), page, per_page)
    term = search.strip().lower()
    matches = member_matches(term)
    if on_postgresql():
        return _search_members(org, term, matches, page, per_page)
    # SQLite has no trigram index: reading in order is all there is.
    return paginate(_matching_in_order(Membership, matches).where(Membership.org_id == org.id), page, per_page)


def member_matches(term: str) -> ColumnElement[bool]:
    """Accounts whose name, username or address contains ``term`` (lower-cased) as typed:
    ``%`` and ``_`` are escaped, never wildcards."""
    return (
        func.lower(User.name).contains(term, autoescape=True)
        | func.lower(User.username).contains(term, autoescape=True)
        | User.email.contains(term, autoescape=True)
    )


def members_matching(org: Organization, search: str | None = None) -> Select[tuple[Membership]]:
    """``org``'s members with their accounts, newest first, those matching ``search`` only
    when given (the JSON API's list, read by keyset on (created_at, id))."""
    query = (
        db.select(Membership).join(Membership.user).options(contains_eager(Membership.user))
        .where(Membership.org_id == org.id)
        .order_by(Membership.created_at.desc(), Membership.id.desc())
    )
    return query.where(member_matches(search.strip().lower())) if search and search.strip() else query


# A term whose trigrams find at most this many accounts is gathered from the indexes.
FEW_ACCOUNTS = 2_000
# pg_trgm looks a pattern up by the trigrams in its runs of letters and digits.
_TRIGRAM = re.compile(r"[^\W_]{3}")


def _search_members(
    org: Organization, term: str, matches: ColumnElement[bool], page: int, per_page: int
) -> Page:
    """The page of members matching ``term`` on PostgreSQL, in one of two shapes.

    Reading the members in order stops as soon as it has a page and its count: quick when
    matches are common, a read of nearly every member when they are rare or come late in
    the order ("son 99" at 100,000 members: 150 ms). Gathering the matching accounts from
    the trigram indexes (migration 0012) and sorting their members costs in proportion to
    their number. So a term whose trigrams find ``FEW_ACCOUNTS`` accounts or fewer, as one
    bounded count tells, is gathered, and any other is read in order.
    """
    members = db.select(Membership).where(Membership.org_id == org.id)
    if _TRIGRAM.search(term) and _count_up_to(db.select(User.id).where(matches), FEW_ACCOUNTS) <= FEW_ACCOUNTS:
        return paginate(_gathered(members, matches), page, per_page)
    return paginate(_matching_in_order(Membership, matches).where(Membership.org_id == org.id), page, per_page)


def _in_order(query: Select[tuple[Membership]], member: Any) -> Select[tuple[Membership]]:
    """``query`` in the Members panel's order: owners first, then by name."""
    return query.order_by(member.role_order, member.sort_name, member.id)


def _matching_in_order(member: Any, matches: ColumnElement[bool]) -> Select[tuple[Membership]]:
    """``member`` rows (Membership or an alias of it) whose accounts match, in order: the
    planner reads the order's index and checks each account until it has enough."""
    query = db.select(member).join(member.user).options(contains_eager(member.user)).where(matches)
    return _in_order(query, member)


def _gathered(members: Select[tuple[Membership]], matches: ColumnElement[bool]) -> Select[tuple[Membership]]:
    """The ``members`` whose accounts match, looked up from the matching accounts. As an
    array the planner takes them for a handful and finds each one's membership by
    ``user_id``; as a join, it read the members in order instead (see above)."""
    # One CTE, read by the page and by its count alike: the indexes are looked up once.
    accounts = db.select(User.id).where(matches).cte("matching_accounts")
    query = members.where(Membership.user_id == any_(func.array(db.select(accounts.c.id).scalar_subquery())))
    # The 25 accounts of the page, read by id after the sort, not one per match before it.
    return _in_order(query.options(selectinload(Membership.user)), Membership)


def _count_up_to(query: Select[Any], bound: int) -> int:
    """How many rows ``query`` has, counting to ``bound + 1`` at most."""
    rows = query.order_by(None).limit(bound + 1).subquery()
    return db.session.execute(db.select(func.count()).select_from(rows)).scalar_one()


def _owner_count(org: Organization) -> int:
    return db.session.scalar(
        db.select(func.count()).select_from(Membership).filter_by(org_id=org.id, role=Role.OWNER)
    )


def _refuse_losing_last_owner(org: Organization, membership: Membership, message: str) -> None:
    if membership.role == Role.OWNER:
        lock_organization(org)
        if _owner_count(org) <= 1:
            raise DomainError(message)


def change_role(org: Organization, actor: User, membership: Membership, new_role: str) -> Membership:
    """Give ``membership`` a new role.

    Refuses an unknown role, a role above the actor's own, and demoting the last owner.
    """
    if new_role not in Role.ALL:
        raise DomainError("Choose one of the listed roles.", "role")
    actor_role = db.session.scalar(
        db.select(Membership.role).filter_by(org_id=org.id, user_id=actor.id)
    )
    if actor_role is None or Role.rank(new_role) > Role.rank(actor_role):
        raise DomainError("You cannot grant a role above your own.", "role")
    old_role = membership.role
    if new_role == old_role:
        return membership
    if Role.rank(new_role) < Role.rank(old_role):
        _refuse_losing_last_owner(
            org, membership, "An organization needs at least one owner: make someone else owner first."
        )
    membership.role = new_role
    record(
        org,
        actor,
        "member.role_changed",
        f"changed {membership.user.name}'s role from {Role.LABELS[old_role]} to {Role.LABELS[new_role]}",
        membership,
    )
    emit(org, "member.role_changed", membership, previous_role=old_role)
    return membership


def change_access(org: Organization, actor: User, membership: Membership, day: date | None) -> bool:
    """Set the last day of ``membership``'s access (None: no end); returns whether it
    changed. Refuses a day already past and an end for an owner (owners' access never ends:
    ``flask expire-memberships`` passes them over). A new end is warned about afresh."""
    if day is not None and membership.role == Role.OWNER:
        raise DomainError("An owner's access does not end. Change their role first.", "access_until")
    if day == membership.access_last_day:
        return False
    membership.access_until = end_of(day)
    membership.access_warned_at = None
    until = f"to the end of {day:%Y-%m-%d} (UTC)" if day else "to no end"
    record(org, actor, "member.access_changed", f"set {membership.user.name}'s access {until}", membership)
    return True


def leave_groups(org: Organization, user_id: int) -> None:
    """Delete ``user_id``'s rows in ``org``'s groups: read through the person's own rows
    (their index), each checked against its group, so the cost does not grow with the
    organization's number of groups (an ``IN (groups of org)`` hashed all of them)."""
    in_org = db.select(Group.id).where(Group.id == GroupMember.group_id, Group.org_id == org.id).exists()
    db.session.execute(
        db.delete(GroupMember).where(GroupMember.user_id == user_id, in_org)
        .execution_options(synchronize_session=False)
    )


def _remove_membership(org: Organization, membership: Membership, how: str) -> None:
    emit(org, "member.removed", membership, how=how)  # (read before the row goes)
    leave_groups(org, membership.user_id)
    db.session.delete(membership)
    policy.forget_group_entries()  # read for this request, now gone


def remove_member(org: Organization, actor: User, membership: Membership) -> None:
    """Remove someone from the organization and its groups. Refuses the last owner."""
    _refuse_losing_last_owner(org, membership, "The last owner cannot be removed.")
    name = membership.user.name
    _remove_membership(org, membership, "removed")
    record(org, actor, "member.removed", f"removed {name} from the organization", membership)


def leave_organization(org: Organization, membership: Membership) -> None:
    """The member leaves by themselves. Refuses the last owner."""
    _refuse_losing_last_owner(
        org, membership, "You are the last owner: make someone else owner before leaving."
    )
    user = membership.user
    _remove_membership(org, membership, "left")
    record(org, user, "member.left", "left the organization", membership)


def update_permissions(
    org: Organization, actor: User, *, managers_may_add_people: bool, members_may_add_people: bool,
    require_group_on_invite: bool, invitation_lifetime_days: int,
    reminder_days_before: int | None = None, reminder_halfway: bool = False,
    member_limit: int | None = None,
) -> list[str]:
    """Change the "who may add new people" switches and invitation settings (F5); returns
    the changes recorded. Refuses a lifetime outside 1–365 days and reminders outside 1–30
    days before expiry. A changed reminder setting reschedules the open invitations'
    reminders."""
    labels = {
        "managers_may_add_people": "managers may add new people",
        "members_may_add_people": "members may add new people",
        "require_group_on_invite": "invitations require a group",
        "invitation_lifetime_days": "invitation lifetime (days)",
        "reminder_days_before": "reminder (days before expiry)",
        "reminder_halfway": "reminder halfway",
        "member_limit": "member limit",
    }
    days_before = int(reminder_days_before) if reminder_days_before else None
    if not 1 <= int(invitation_lifetime_days) <= 365:
        raise DomainError("Choose between 1 and 365 days.", "invitation_lifetime_days")
    if days_before is not None and not 1 <= days_before <= 30:
        raise DomainError("Choose between 1 and 30 days, or no reminders.", "reminder_days_before")
    if member_limit is not None and not 1 <= int(member_limit) <= MAX_MEMBER_LIMIT:
        raise DomainError(f"Choose between 1 and {MAX_MEMBER_LIMIT:,} members, or leave it empty.", "member_limit")
    new_values: dict[str, object] = {
        "managers_may_add_people": bool(managers_may_add_people),
        "members_may_add_people": bool(members_may_add_people),
        "require_group_on_invite": bool(require_group_on_invite),
        "invitation_lifetime_days": int(invitation_lifetime_days),
        "reminder_days_before": days_before,
        "reminder_halfway": bool(reminder_halfway),
        "member_limit": int(member_limit) if member_limit else None,
    }
    changes = []
    for key, value in new_values.items():
        old = getattr(org, key)
        if old != value:
            setattr(org, key, value)
            changes.append(f"{labels[key]}: {_show(old)} → {_show(value)}")
    if changes:
        record(org, actor, "settings.changed", "changed settings: " + "; ".join(changes), org)
    if any(label.startswith("reminder") for label in changes):
        reschedule_reminders(org)
    return changes


def _show(value: object) -> str:
    if isinstance(value, bool):
        return "on" if value else "off"
    return "none" if value is None else str(value)


def set_plan(org: Organization, plan: str) -> Organization:
    """Put the organization on a plan (F6); the operator's CLI command calls this.
    Refuses an unknown plan."""
    if plan not in Plan.ALL:
        raise DomainError(f"Unknown plan {plan!r}: use one of {', '.join(Plan.ALL)}.")
    old = org.plan
    org.plan = plan
    if old != plan:
        record(org, None, "plan.changed", f"changed the plan from {old} to {plan}", org)
    return org


def require_premium(org: Organization) -> None:
    """Raise DomainError unless the organization is on the premium plan."""
    if not org.is_premium:
        raise DomainError("This feature is part of the premium plan.")
