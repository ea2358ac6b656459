"""Loaders scope every object to the organization in the URL and answer 404 otherwise."""
from flask import abort
from flask_login import current_user
from sqlalchemy.orm import joinedload

from invites import policy
from invites.extensions import db
from invites.orgs.models import Membership, Organization
from invites.per_request import memo


def remember_org(slug: str, org: Organization | None) -> None:
    """What this request's URL slug names, read with the viewer (:mod:`invites.viewer`):
    the organization, or None for none."""
    memo("orgs")[slug] = org


def load_org(slug: str) -> Organization:
    """The organization with this slug, or 404."""
    known = memo("orgs")
    if slug in known:
        if known[slug] is None:
            abort(404)
        org: Organization = known[slug]
        return org
    return db.first_or_404(db.select(Organization).filter_by(slug=slug))


def load_org_for(slug: str, action: str) -> Organization:
    """The organization with this slug, once the policy lets the current user do
    ``action`` there: 404 for no such organization or a non-member, 403 without the
    right. The opening of every organization route."""
    org = load_org(slug)
    policy.require(current_user, action, org)
    return org


def load_membership(org: Organization, membership_id: int) -> Membership:
    """A membership of ``org`` by id, or 404 — never another organization's row."""
    return db.first_or_404(
        db.select(Membership)
        .options(joinedload(Membership.user))
        .filter_by(id=membership_id, org_id=org.id)
    )
