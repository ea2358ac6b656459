"""The one answer to "may this user do this here?" (SPEC F3–F5).

Routes ask :func:`can` (or :func:`require`, which aborts with 403) after loading the
organization and object; templates ask it only to hide buttons the route would refuse.
Every rule is a small function of (role, org, obj) so the table below reads as the spec.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeAlias

from flask import abort

from sqlalchemy import Exists
from sqlalchemy.orm import aliased

from invites.extensions import db
from invites.groups.models import Group, GroupMember
from invites.orgs.models import Membership, Organization, Role
from invites.per_request import memo

if TYPE_CHECKING:
    from flask_login import AnonymousUserMixin

    from invites.accounts.models import User
    from invites.invitations.models import Invitation
    from invites.links.models import InviteLink

    # Whoever asks: ``current_user``, logged in or not.
    Someone: TypeAlias = User | AnonymousUserMixin | None

OWNER, MANAGER, MEMBER, COLLABORATOR = Role.OWNER, Role.MANAGER, Role.MEMBER, Role.COLLABORATOR
STAFF = {OWNER, MANAGER}


def role_of(user: Someone, org: Organization | None) -> str | None:
    """The user's role in ``org``, or None. Cached on the user object per request."""
    if user is None or not getattr(user, "is_authenticated", False) or org is None:
        return None
    cache = user.__dict__.setdefault("_roles", {})
    if org.id not in cache:
        cache[org.id] = db.session.scalar(
            db.select(Membership.role).filter_by(org_id=org.id, user_id=user.id)
        )
    return cache[org.id]


def remember_role(user: User, org: Organization, role: str | None) -> None:
    """``user``'s role in ``org`` as read with the account this request (:mod:`invites.viewer`)."""
    user.__dict__.setdefault("_roles", {})[org.id] = role


def forget_roles(user: User) -> None:
    """Drop the per-request caches (role, managed groups, group entries) after a role, a
    group's people or its managers changed."""
    user.__dict__.pop("_roles", None)
    user.__dict__.pop("_managed_groups", None)
    forget_group_entries()


def forget_group_entries() -> None:
    """Drop this request's reads of who is in which group (after group rows changed)."""
    memo("group_entries").clear()
    memo("manages_a_group").clear()


def remember_group_entry(user: User, group: Group, is_manager: bool | None) -> None:
    """Whether ``user`` is in ``group`` (None: not in it) and manages it, as read with the
    group this request (:func:`invites.groups.loaders.load_group`)."""
    memo("group_entries")[(group.id, user.id)] = is_manager


def group_entry(user: User, group: Group) -> tuple[bool, bool | None]:
    """(known, is_manager) for ``user`` in ``group`` from this request's reads; is_manager
    None means not in the group."""
    entries = memo("group_entries")
    key = (group.id, user.id)
    return (key in entries, entries.get(key))


def managed_group_ids(user: Someone, org: Organization) -> frozenset[int]:
    """Ids of the groups of ``org`` that ``user`` manages (F4). One query, then cached
    per request like the role, so a list of invitations asks once, not once a row."""
    if user is None or not getattr(user, "is_authenticated", False):
        return frozenset()
    cache = user.__dict__.setdefault("_managed_groups", {})
    if org.id not in cache:
        cache[org.id] = frozenset(db.session.scalars(
            db.select(GroupMember.group_id)
            .join(Group, Group.id == GroupMember.group_id)
            .where(Group.org_id == org.id, GroupMember.user_id == user.id,
                   GroupMember.is_manager.is_(True))
        ))
    return cache[org.id]


def may_add_new_people(role: str | None, org: Organization) -> bool:
    """F5: owners always; managers and members when the organization's switch allows."""
    if role == OWNER:
        return True
    if role == MANAGER:
        return org.managers_may_add_people
    if role == MEMBER:
        return org.members_may_add_people
    return False


def _is_group_manager(user: User, group: Group | None) -> bool:
    if group is None:
        return False
    known, is_manager = group_entry(user, group)
    if not known:
        is_manager = db.session.scalar(
            db.select(GroupMember.is_manager).filter_by(group_id=group.id, user_id=user.id)
        )
    return is_manager is True


def _invite_to_group(user: User, role: str | None, org: Organization, group: Group | None) -> bool:
    """Staff invite into any group; a group's managers into theirs; collaborators never."""
    if role in STAFF:
        return True
    if role == MEMBER:
        return _is_group_manager(user, group)
    return False


def _change_role(user: User, role: str | None, org: Organization, membership: Membership | None) -> bool:
    # Owners change anyone's role but their own demotion goes through the last-owner rule
    # in the service; nobody else changes roles.
    return role == OWNER


def _link_for_members(user: User, role: str | None, org: Organization, group: Group | None) -> bool:
    """Seed 001: anyone who may invite may make a link; a plain member too, for the groups
    they are in, and then only "Existing members only" (the service refuses "Anyone with
    the link" without people.add_new). Without ``group``: may they open "New Invite" at all."""
    if role in STAFF:
        return True
    if role != MEMBER:
        return False
    if group is None:
        return _invite_to_any_group(user, role, org) or db.session.scalar(
            db.select(GroupMember.group_id)
            .join(Group, Group.id == GroupMember.group_id)
            .where(Group.org_id == org.id, GroupMember.user_id == user.id)
            .limit(1)
        ) is not None
    return group.org_id == org.id and db.session.get(GroupMember, (group.id, user.id)) is not None


def _manage_invitations(user: User, role: str | None, org: Organization, obj: Group | Invitation | None) -> bool:
    """Staff manage every invitation. A group's managers (members) see that group's
    invitations (``obj`` the group) and resend or cancel one (``obj`` the invitation)
    when they manage every group it names and its role is not above Member: one that
    names another group, or no group, stays with staff."""
    if role in STAFF:
        return True
    if role != MEMBER or obj is None:
        return False
    if isinstance(obj, Group):
        group_ids = {obj.id}
    elif Role.rank(obj.role) > Role.rank(MEMBER):
        return False
    else:
        group_ids = {group.id for group in obj.groups}
    return bool(group_ids) and group_ids <= managed_group_ids(user, org)


def _made_it(user: User, role: str | None, link: InviteLink | None) -> bool:
    """A member sees, copies, shares and deletes the invite links they made."""
    return link is not None and role == MEMBER and link.created_by_id == user.id


def _leave(user: User, role: str | None, org: Organization, obj: object) -> bool:
    return role is not None


# action -> rule(user, role, org, obj) -> bool. Role is None for non-members.
RULES: dict[str, Callable[[Any, str | None, Any, Any], bool]] = {
    "org.view": lambda u, r, o, x: r is not None,
    "org.manage": lambda u, r, o, x: r in STAFF,
    "org.leave": _leave,
    "members.view": lambda u, r, o, x: r in STAFF,
    "members.change_role": _change_role,
    "members.remove": lambda u, r, o, x: r == OWNER,
    "members.change_access": lambda u, r, o, x: r == OWNER,
    "groups.view": lambda u, r, o, x: r is not None,
    "groups.manage": lambda u, r, o, x: r in STAFF,
    "groups.invite": lambda u, r, o, x: _invite_to_group(u, r, o, x),
    "people.add_new": lambda u, r, o, x: may_add_new_people(r, o),
    "people.invite": lambda u, r, o, x: r in STAFF or _invite_to_any_group(u, r, o),
    "settings.edit": lambda u, r, o, x: r == OWNER,
    "activity.view": lambda u, r, o, x: r == OWNER,
    "invitations.manage": _manage_invitations,
    "links.manage": lambda u, r, o, x: r in STAFF,
    "links.create": _link_for_members,
    "links.edit": lambda u, r, o, x: r in STAFF or _made_it(u, r, x),
    "join_requests.manage": lambda u, r, o, x: r in STAFF,
    "join_page.manage": lambda u, r, o, x: r == OWNER,
    "imports.manage": lambda u, r, o, x: r in STAFF,
    "api_tokens.manage": lambda u, r, o, x: r == OWNER,
    "webhooks.manage": lambda u, r, o, x: r == OWNER,
}


def _invite_to_any_group(user: User, role: str | None, org: Organization) -> bool:
    """A member who manages at least one group may open the invite form for it."""
    if role == MEMBER:
        if org.members_may_add_people:
            return True
        known = memo("manages_a_group")
        if (org.id, user.id) not in known:
            known[(org.id, user.id)] = db.session.scalar(manages_a_group(user, org).select())
        return bool(known[(org.id, user.id)])
    return False


def manages_a_group(user: User, org: Organization) -> Exists:
    """Whether ``user`` manages at least one group of ``org``, as an EXISTS to read alone
    or alongside another query (:func:`remember_manages_a_group`)."""
    entry, group = aliased(GroupMember), aliased(Group)  # never correlated to an outer query's
    return db.exists().where(
        entry.group_id == group.id, group.org_id == org.id,
        entry.user_id == user.id, entry.is_manager.is_(True),
    )


def remember_manages_a_group(user: User, org: Organization, manages: bool) -> None:
    """:func:`manages_a_group` as read alongside another query this request."""
    memo("manages_a_group")[(org.id, user.id)] = manages


def can(user: Someone, action: str, org: Organization | None, obj: Any = None) -> bool:
    """True when ``user`` may perform ``action`` in ``org`` (on ``obj`` if given)."""
    try:
        rule = RULES[action]
    except KeyError:  # a typo must not silently allow or deny
        raise ValueError(f"unknown policy action {action!r}") from None
    role = role_of(user, org)
    if role is None and action != "org.view":
        return False
    return bool(rule(user, role, org, obj))


def require(user: Someone, action: str, org: Organization | None, obj: Any = None) -> None:
    """Abort with 403 unless :func:`can` allows; 404 for non-members so org existence
    inside someone else's tenancy is not confirmed by a different answer."""
    if role_of(user, org) is None:
        abort(404)
    if not can(user, action, org, obj):
        abort(403)


def assignable_roles(user: Someone, org: Organization | None) -> list[str]:
    """Roles this user may grant in ``org``: never above their own (F3)."""
    role = role_of(user, org)
    if role is None or role == COLLABORATOR:
        return []
    return [value for value, _ in Role.choices(at_most=role)]
