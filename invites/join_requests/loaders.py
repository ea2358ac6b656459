from flask import abort
from sqlalchemy.orm import joinedload, selectinload

from invites.extensions import db
from invites.join_requests.models import JoinLink, JoinRequest


def load_join_link(org, link_id):
    """A join request link of ``org`` by id, or 404."""
    link = db.session.scalar(
        db.select(JoinLink).options(selectinload(JoinLink.groups), selectinload(JoinLink.recipients))
        .filter_by(id=link_id, org_id=org.id)
    )
    if link is None:
        abort(404)
    return link


def load_join_request(org, request_id):
    """A join request of ``org`` by id, or 404 — never another organization's."""
    join_request = db.session.scalar(
        db.select(JoinRequest)
        .options(joinedload(JoinRequest.user), joinedload(JoinRequest.link).selectinload(JoinLink.groups))
        .filter_by(id=request_id, org_id=org.id)
    )
    if join_request is None:
        abort(404)
    return join_request
