"""Organization API tokens: made and revoked by owners, checked on every API request."""
from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING

from flask import abort
from flask_sqlalchemy.pagination import Pagination
from sqlalchemy.orm import joinedload

from invites import policy
from invites.activity.service import record
from invites.api.models import ApiToken, Scope
from invites.clock import now
from invites.errors import DomainError
from invites.extensions import db
from invites.orgs.access import end_of
from invites.orgs.models import Membership, Role
from invites.pagination import paginate
from invites.tokens import hash_token, new_token

if TYPE_CHECKING:
    from invites.accounts.models import User
    from invites.orgs.models import Organization

PREFIX = "inv_"  # marks the string as an Invites token (for secret scanners and people)
MAX_NAME = 80
# "Last used" is written at most this often per token: not one write per request.
LAST_USED_GRANULARITY = timedelta(minutes=1)


class Unauthorized(DomainError):
    """No token, or one that opens nothing (unknown, revoked, expired, or its owner is
    no longer an owner): answered 401."""

    code = "unauthorized"


def create_token(
    org: Organization, actor: User, name: str, scope: str, last_day: date | None = None,
) -> tuple[ApiToken, str]:
    """Make a token and return ``(token row, token)``; only the token's hash is kept, so
    the token is shown once. Refuses an empty name, an unknown scope, a past last day."""
    name = (name or "").strip()
    if not name:
        raise DomainError("Name the token after what will use it, e.g. “HR sync”.", "name")
    if len(name) > MAX_NAME:
        raise DomainError(f"Use at most {MAX_NAME} characters.", "name")
    if scope not in Scope.ALL:
        raise DomainError("Choose what the token may do.", "scope")
    if last_day is not None and last_day < now().date():
        raise DomainError("Pick a day that is not in the past, or leave it empty.", "last_day")
    token = PREFIX + new_token()
    row = ApiToken(org_id=org.id, org=org, name=name, scope=scope, prefix=token[:10],
                   created_by=actor, expires_at=end_of(last_day))
    row.token_hash = hash_token(token)
    db.session.add(row)
    db.session.flush()
    record(org, actor, "api_token.created", f"created the API token “{name}” ({row.scope_label.lower()})", row)
    return row, token


def revoke_token(org: Organization, actor: User, token: ApiToken) -> None:
    """Revoke: every request with it is refused from now on. Refuses one already revoked."""
    if token.revoked_at is not None:
        raise DomainError("This token was already revoked.")
    token.revoked_at = now()
    record(org, actor, "api_token.revoked", f"revoked the API token “{token.name}”", token)


def page_of_tokens(org: Organization, page: int, per_page: int) -> Pagination:
    """The organization's tokens, newest first, with who made them (one query)."""
    query = (
        db.select(ApiToken).options(joinedload(ApiToken.created_by))
        .where(ApiToken.org_id == org.id)
        .order_by(ApiToken.created_at.desc(), ApiToken.id.desc())
    )
    return paginate(query, page, per_page)


def load_token(org: Organization, token_id: int) -> ApiToken:
    """``org``'s token ``token_id``, or 404."""
    token = db.session.scalar(db.select(ApiToken).filter_by(id=token_id, org_id=org.id))
    if token is None:
        abort(404)
    return token


def authenticate(header: str | None, at: datetime | None = None) -> ApiToken:
    """The token an ``Authorization: Bearer <token>`` header presents, with its organization
    and maker loaded; refuses (:class:`Unauthorized`) a missing or malformed header, an
    unknown, revoked or expired token, and one whose maker is no longer an owner of its
    organization (a token acts as them). One query. Marks it used, at most once a minute
    (the session is then dirty: the caller commits)."""
    scheme, _, value = (header or "").partition(" ")
    value = value.strip()
    if scheme.lower() != "bearer" or not value:
        raise Unauthorized("Send an organization API token: Authorization: Bearer <token>.")
    found = db.session.execute(
        db.select(ApiToken, Membership.role)
        .options(joinedload(ApiToken.org, innerjoin=True), joinedload(ApiToken.created_by, innerjoin=True))
        .outerjoin(Membership, (Membership.org_id == ApiToken.org_id) & (Membership.user_id == ApiToken.created_by_id))
        .where(ApiToken.token_hash == hash_token(value))
    ).first() if len(value) <= 200 else None
    at = at or now()
    if found is None:
        raise Unauthorized("This token is not known. Check it, or make a new one under API Tokens.")
    token, role = found
    if token.revoked_at is not None:
        raise Unauthorized("This token was revoked.")
    if token.is_expired(at):
        raise Unauthorized("This token has expired.")
    if role != Role.OWNER:
        raise Unauthorized("Whoever made this token is no longer an owner of the organization. "
                           "An owner can make a new one.")
    policy.remember_role(token.created_by, token.org, role)  # read here: not asked again
    if token.last_used_at is None or token.last_used_at <= at - LAST_USED_GRANULARITY:
        token.last_used_at = at  # the caller commits (a write at most once a minute)
    return token
