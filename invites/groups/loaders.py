"""Loaders for groups and their people, scoped to the organization in the URL: 404 otherwise."""
from collections.abc import Sequence
from functools import cache

from flask import abort
from flask_login import current_user
from sqlalchemy import Integer, Row, Select, bindparam, func

from invites import policy

from invites.accounts.models import User
from invites.extensions import db
from invites.groups.models import Group, GroupMember
from invites.orgs.models import Membership, Organization


def load_group(org: Organization, group_id: int) -> Group:
    """A group of ``org`` by id, or 404 — never another organization's group. Whether the
    viewer is in it, and manages it, comes in the same query (for the policy and the page)."""
    viewer = current_user if current_user.is_authenticated else None
    row = db.session.execute(
        db.select(Group, GroupMember.is_manager)
        .outerjoin(GroupMember, (GroupMember.group_id == Group.id)
                   & (GroupMember.user_id == (viewer.id if viewer is not None else None)))
        .where(Group.id == group_id, Group.org_id == org.id)
    ).first()
    if row is None:
        abort(404)
    group, is_manager = row
    if viewer is not None:
        policy.remember_group_entry(viewer, group, is_manager)
    return group


def load_user(org: Organization, user_id: int) -> User:
    """A member of ``org`` by account id, or 404: an account of another organization (or
    of none) is never loaded, so its name cannot be read through a group's URLs."""
    return db.first_or_404(
        db.select(User)
        .join(Membership, Membership.user_id == User.id)
        .where(User.id == user_id, Membership.org_id == org.id)
    )


def load_groups(org: Organization, ids: Sequence[int] | None) -> Sequence[Group]:
    """The groups of ``org`` with these ids; ids of other organizations are ignored."""
    if not ids:
        return []
    return db.session.scalars(
        db.select(Group).where(Group.org_id == org.id, Group.id.in_(ids)).order_by(Group.name)
    ).all()


def groups_in_order(org: Organization) -> Select[tuple[Group]]:
    """``org``'s groups, newest first (the JSON API's list)."""
    return db.select(Group).where(Group.org_id == org.id).order_by(Group.created_at.desc(), Group.id.desc())


def groups_of(org: Organization, limit: int | None = None) -> Sequence[Group]:
    """The groups of ``org`` by name (all, or the first ``limit`` read from the index on
    lower(name)): for a filter's or a form's choices."""
    query = db.select(Group).filter_by(org_id=org.id).order_by(func.lower(Group.name), Group.id)
    return db.session.scalars(query.limit(limit) if limit is not None else query).all()


def group_names(org: Organization, limit: int) -> Sequence[Row[tuple[int, str]]]:
    """(id, name) of the first ``limit`` groups of ``org`` by name, read from the index on
    lower(name): a filter's choices, without loading each group."""
    return db.session.execute(_names_statement(), {"org_id": org.id, "limit": limit}).all()


@cache
def _names_statement() -> Select[tuple[int, str]]:
    """:func:`group_names`' query, built once (the Invitations panel asks it on every full
    page): the organization and the limit are bound when it runs."""
    return (db.select(Group.id, Group.name).where(Group.org_id == bindparam("org_id"))
            .order_by(func.lower(Group.name), Group.id).limit(bindparam("limit", type_=Integer)))
