"""Loaders for invitations: scoped to the organization in the URL, or to the address of
the logged-in account; 404 otherwise."""
from flask import abort
from sqlalchemy.orm import joinedload, selectinload

from invites.extensions import db
from invites.groups.models import Group
from invites.invitations.models import Invitation


def _query():
    return db.select(Invitation).options(
        joinedload(Invitation.org),
        joinedload(Invitation.inviter),
        joinedload(Invitation.accepted_user),
        selectinload(Invitation.groups),
    )


def load_invitation(org, invitation_id):
    """An invitation of ``org`` by id, or 404 — never another organization's row."""
    return db.first_or_404(_query().filter_by(id=invitation_id, org_id=org.id))


def load_own_invitation(user, invitation_id):
    """An invitation sent to ``user``'s address, or 404 (the bell and dashboard buttons).
    Also 404 while the address is not confirmed: registering with someone's address
    must not reveal their invitations (security review F1)."""
    if not user.is_verified:
        abort(404)
    return db.first_or_404(_query().filter_by(id=invitation_id, email=user.email))


def load_groups(org, ids):
    """The groups of ``org`` with these ids; ids of other organizations are ignored."""
    if not ids:
        return []
    return db.session.scalars(
        db.select(Group).where(Group.org_id == org.id, Group.id.in_(ids)).order_by(Group.name)
    ).all()
