from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy.orm import joinedload, selectinload

from invites.extensions import db
from invites.links.models import InviteLink

if TYPE_CHECKING:
    from invites.orgs.models import Organization


def load_link(org: Organization, link_id: int) -> InviteLink:
    """A link of ``org`` by id (deleted ones too), or 404 — never another organization's."""
    return db.first_or_404(
        db.select(InviteLink)
        .options(joinedload(InviteLink.created_by), selectinload(InviteLink.groups))
        .filter_by(id=link_id, org_id=org.id)
    )
