"""Loaders scope every object to the organization in the URL and answer 404 otherwise."""
from flask import request
from sqlalchemy.orm import joinedload

from invites.extensions import db
from invites.orgs.models import Membership, Organization


def load_org(slug):
    """The organization with this slug, or 404."""
    return db.first_or_404(db.select(Organization).filter_by(slug=slug))


def load_membership(org, membership_id):
    """A membership of ``org`` by id, or 404 — never another organization's row."""
    return db.first_or_404(
        db.select(Membership)
        .options(joinedload(Membership.user))
        .filter_by(id=membership_id, org_id=org.id)
    )


def page_number():
    """The ``page`` query argument as a positive int (bad values mean page 1)."""
    return max(request.args.get("page", 1, type=int) or 1, 1)
