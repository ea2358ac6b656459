from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy.orm import joinedload, selectinload

from invites.extensions import db
from invites.join_requests.models import JoinLink, JoinRequest

if TYPE_CHECKING:
    from invites.orgs.models import Organization


def load_join_link(org: Organization, link_id: int) -> JoinLink:
    """A join request link of ``org`` by id, or 404."""
    return db.first_or_404(
        db.select(JoinLink).options(selectinload(JoinLink.groups), selectinload(JoinLink.recipients))
        .filter_by(id=link_id, org_id=org.id)
    )


def load_join_request(org: Organization, request_id: int) -> JoinRequest:
    """A join request of ``org`` by id, or 404 — never another organization's."""
    return db.first_or_404(
        db.select(JoinRequest)
        .options(joinedload(JoinRequest.user), joinedload(JoinRequest.link).selectinload(JoinLink.groups))
        .filter_by(id=request_id, org_id=org.id)
    )
