"""Who an API request acts as. Every request to ``/api/v1`` (but its public OpenAPI
document and reference) presents an organization API token; there are no sessions and
no cookies, so CSRF does not apply (the blueprint is exempt, and a request without a token
is refused before anything runs). The token acts in its organization as the owner who
made it, within its scope: a write with a read token is a 403."""
from __future__ import annotations

from typing import TYPE_CHECKING

from flask import abort, current_app, g, request

from invites.activity.service import acting_through
from invites.api import service
from invites.api.models import ApiToken
from invites.extensions import db
from invites.tokens import hash_token

if TYPE_CHECKING:
    from invites.accounts.models import User
    from invites.orgs.models import Organization

READING = {"GET", "HEAD", "OPTIONS"}


def authenticate() -> None:
    """The API blueprint's ``before_request``: open the token or refuse (401), refuse a
    write with a read token (403), and mark what the activity log records as coming
    "via API token “name”"."""
    token = service.authenticate(request.headers.get("Authorization"))
    if db.session.dirty:  # "last used", at most once a minute: a GET commits nothing else
        db.session.commit()
    if request.method not in READING and not token.may_write:
        abort(403, "This token may only read. Make a token that may read and write.")
    g.api_token = token
    acting_through(f"API token “{token.name}”")


def forget() -> None:
    """``teardown_request``: nothing of this request's token outlives it."""
    g.pop("api_token", None)
    acting_through(None)


def token() -> ApiToken:
    found: ApiToken = g.api_token
    return found


def org() -> Organization:
    return token().org


def actor() -> User:
    """The token's maker, an owner of its organization (checked on every request)."""
    return token().created_by


def rate_limit() -> str:
    return str(current_app.config["API_RATE_LIMIT"])


def rate_key() -> str:
    """Requests are counted per token (its hash), or per address without one."""
    presented = request.headers.get("Authorization", "").partition(" ")[2].strip()
    if presented:
        return "api-token:" + hash_token(presented)[:32]
    return "api-address:" + (request.remote_addr or "unknown")
