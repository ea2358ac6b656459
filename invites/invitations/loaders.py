"""Loaders for invitations: scoped to the organization in the URL, or to the address of
the logged-in account; 404 otherwise."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from flask import abort
from sqlalchemy import Select
from sqlalchemy.orm import joinedload, selectinload

from invites.extensions import db
from invites.invitations.models import Invitation

if TYPE_CHECKING:
    from invites.accounts.models import User
    from invites.orgs.models import Organization


def _query() -> Select[Any]:
    return db.select(Invitation).options(
        joinedload(Invitation.org),
        joinedload(Invitation.inviter),
        joinedload(Invitation.accepted_user),
        selectinload(Invitation.groups),
    )


def load_invitation(org: Organization, invitation_id: int) -> Invitation:
    """An invitation of ``org`` by id, or 404 — never another organization's row."""
    return db.first_or_404(_query().filter_by(id=invitation_id, org_id=org.id))


def load_own_invitation(user: User, invitation_id: int) -> Invitation:
    """An invitation sent to ``user``'s address, or 404 (the bell and dashboard buttons).
    Also 404 while the address is not confirmed: registering with someone's address
    must not reveal their invitations (security review F1)."""
    if not user.is_verified:
        abort(404)
    return db.first_or_404(_query().filter_by(id=invitation_id, email=user.email))