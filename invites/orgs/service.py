"""Organizations, memberships and roles (F2, F3, F5, F6)."""
from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from datetime import date
from typing import Any

from flask_sqlalchemy.pagination import Pagination
from sqlalchemy import ColumnElement, Select, Text, TextClause, bindparam, false, func, text, true
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import contains_eager, joinedload

from invites import policy
from invites.accounts.models import User
from invites.activity.service import record
from invites.errors import DomainError
from invites.extensions import db
from invites.groups.models import Group, GroupMember
from invites.invitations.reminders import reschedule as reschedule_reminders
from invites.join_page.models import JoinPage
from invites.orgs.access import end_of
from invites.orgs.models import (
    SEARCH_SEPARATOR, JoinedVia, Membership, Organization, Plan, Role, lock_organization,
)
from invites.pagination import Page, paginate
from invites.searching import containing
from invites.transaction import on_postgresql
from invites.webhooks.outbox import emit

RESERVED_SLUGS = {"new", "admin", "api", "static", "login", "logout", "register", "join", "o", "orgs"}

MAX_MEMBER_LIMIT = 1_000_000


def slugify(text: str) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")
    return slug[:60].strip("-")


def _slugs_in_use(base: str) -> set[str]:
    """The organization slugs and join page addresses that are ``base`` or start with
    ``base-``. A new organization takes none of them: /join/<slug> is another
    organization's page, and must not pass for the new one's (security review F12)."""
    def near(column: Any) -> ColumnElement[bool]:
        return (column == base) | column.like(f"{base}-%")

    return set(db.session.scalars(
        db.select(Organization.slug).where(near(Organization.slug))
        .union(db.select(JoinPage.slug).where(near(JoinPage.slug)))
    ))


def _unique_slug(base: str) -> str:
    base = base or "org"
    taken = _slugs_in_use(base)
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
        if slug in _slugs_in_use(slug):
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
    search takes the shape that is quick for its term (``_gathering``)."""
    members = db.select(Membership).where(Membership.org_id == org.id)
    term = (search or "").strip().lower()
    if term:
        members = members.where(member_matches(term))
        gathering = _gathering(org, term) if on_postgresql() else None
        if gathering is not None:
            return _gathered(members.where(gathering), page, per_page)
    return paginate(_in_order(members.options(joinedload(Membership.user, innerjoin=True))), page, per_page)


def member_matches(term: str) -> ColumnElement[bool]:
    """Memberships whose account's name, username or address contains ``term``
    (lower-cased) as typed: ``%`` and ``_`` are escaped, never wildcards. Read from
    ``memberships.search_text`` (migration 0020), whose fields are one per line: a term
    with a line break in it would match across two of them, and matches nothing."""
    if SEARCH_SEPARATOR in term:
        return false()
    return Membership.search_text.contains(term, autoescape=True)


def members_matching(org: Organization, search: str | None = None) -> Select[tuple[Membership]]:
    """``org``'s members with their accounts, newest first, those matching ``search`` only
    when given (the JSON API's list, read by keyset on (created_at, id))."""
    query = (
        db.select(Membership).join(Membership.user).options(contains_eager(Membership.user))
        .where(Membership.org_id == org.id)
        .order_by(Membership.created_at.desc(), Membership.id.desc())
    )
    return query.where(member_matches(search.strip().lower())) if search and search.strip() else query


# A term the planner expects to match at most this many members is gathered through an
# index and sorted; a commoner one is read in the panel's order.
FEW_MEMBERS = 20_000


def _gathering(org: Organization, term: str) -> ColumnElement[bool] | None:
    """How to gather ``term``'s members of ``org`` through a search index, when the planner
    expects ``FEW_MEMBERS`` of them or fewer and would read them through that index
    (PostgreSQL only); None: read them in order. One ``EXPLAIN``: it costs a plan, not a
    read, and its estimate comes from the statistics of ``search_text``.

    Reading the members in order stops as soon as it has a page and its count: quick when
    matches are common, but a read of nearly every member when they are rare or come late
    in the order ("son 9" at 100,000 members: 11,111 matches after 88,889 others). Gathering
    the matches and sorting them costs in proportion to their number: a few milliseconds
    for ten thousand. A term with three letters or digits in a row is looked up in the
    trigram index; any other ("zq", "99", "@b") in the index of each text's characters and
    pairs of characters (migration 0020), which must hold every pair of the term.
    """
    params: dict[str, Any] = {
        "org_id": org.id, "pattern": containing(term),
    }
    if _TRIGRAM.search(term):
        index = _index_planned(_BY_TRIGRAMS, params)
    else:  # pg_trgm may still find it ("-q": "q" starts a word); then the LIKE alone is asked
        pairs = character_pairs(term)
        index = _index_planned(_BY_PAIRS, {**params, "pairs": pairs})
        if index == PAIRS_INDEX:
            return pairs_held(pairs)
    return true() if index == TRIGRAM_INDEX else None


def character_pairs(term: str) -> list[str]:
    """What ``member_search_pairs`` (migration 0020) must hold for a text to contain
    ``term``: each pair of neighbouring characters in it, or its one character."""
    return sorted({term[i:i + 2] for i in range(len(term) - 1)}) if len(term) > 1 else [term]


def pairs_held(pairs: list[str]) -> ColumnElement[bool]:
    """Memberships whose ``search_text`` holds each of ``pairs``, as the index of pairs
    answers it (the LIKE of member_matches still decides)."""
    return func.member_search_pairs(Membership.search_text).op("@>")(
        bindparam("pairs", pairs, type_=postgresql.ARRAY(Text))
    )


def _index_planned(statement: TextClause, params: dict[str, Any]) -> str | None:
    """The search index (the pairs' first, else the trigrams') that the planner would find
    the rows of ``statement``, an EXPLAIN, through, when it expects ``FEW_MEMBERS`` rows or
    fewer; None for any other plan (every member of the organization read, or too many
    matches)."""
    plan = db.session.execute(statement, params).scalar_one()
    if plan[0]["Plan"]["Plan Rows"] > FEW_MEMBERS:
        return None
    return next((index for index in (PAIRS_INDEX, TRIGRAM_INDEX) if f"'Index Name': '{index}'" in str(plan)), None)


# pg_trgm finds a term by its trigrams of letters and digits (with more rules at the
# edges of words; a term without such a run goes to the index of pairs, which finds it too).
_TRIGRAM = re.compile(r"[^\W_]{3}")
TRIGRAM_INDEX, PAIRS_INDEX = "ix_memberships_search_trgm", "ix_memberships_search_pairs"
# What member_matches asks, as the planner sees it; then with what the index of pairs answers.
_BY_TRIGRAMS = text(
    "EXPLAIN (FORMAT JSON) SELECT id FROM memberships "
    "WHERE org_id = :org_id AND search_text LIKE :pattern ESCAPE '/'"
)
_BY_PAIRS = text(
    "EXPLAIN (FORMAT JSON) SELECT id FROM memberships WHERE org_id = :org_id "
    "AND member_search_pairs(search_text) @> CAST(:pairs AS text[]) AND search_text LIKE :pattern ESCAPE '/'"
)


def _in_order(query: Select[tuple[Membership]]) -> Select[tuple[Membership]]:
    """``query`` in the Members panel's order: owners first, then by name."""
    return query.order_by(Membership.role_order, Membership.sort_name, Membership.id)


def _gathered(matching: Select[tuple[Membership]], page: int, per_page: int) -> Page:
    """The page ``page`` of the ``matching`` members in the panel's order, gathered first:
    the matches' ids and sort keys in one CTE, which the count reads and which is sorted
    down to the rows up to the page's end (a top-N sort, not a sort of every match), whose
    memberships are then read by id. Sorting every match as memberships, or joining them
    before the sort, cost twice as much at 11,111 matches."""
    found = (
        matching.with_only_columns(Membership.id, Membership.role_order, Membership.sort_name)
        .cte("matching_members").prefix_with("MATERIALIZED")
    )
    order = (found.c.role_order, found.c.sort_name, found.c.id)
    up_to_page = db.select(found).order_by(*order).limit(max(page, 1) * max(per_page, 1)).subquery()
    query = (
        db.select(Membership).join(up_to_page, up_to_page.c.id == Membership.id)
        .options(joinedload(Membership.user, innerjoin=True))
        .order_by(up_to_page.c.role_order, up_to_page.c.sort_name, up_to_page.c.id)
    )
    return paginate(query, page, per_page, count_of=db.select(found.c.id))


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
