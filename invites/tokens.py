"""Link tokens: 32 random bytes in the URL, only their SHA-256 in the database."""
from __future__ import annotations

import hashlib
import secrets
from typing import TYPE_CHECKING, Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

if TYPE_CHECKING:
    from sqlalchemy.orm.interfaces import ORMOption


def new_token() -> str:
    """32 random bytes, URL-safe (43 characters)."""
    return secrets.token_urlsafe(32)


def hash_token(token: str) -> str:
    """What the database keeps of a token: its SHA-256 (the token itself is only sent)."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


class TokenHolder:
    """A model reached through a link token (invitations, invite links, join request
    links): the column that keeps the token's hash, and issuing a new token."""

    token_hash: Mapped[str] = mapped_column(sa.String(64), nullable=False, unique=True)

    if TYPE_CHECKING:  # given by the model
        __tablename__: str
        id: Any

    def issue_token(self) -> str:
        """A fresh token; any earlier one stops working. Returns the token."""
        token = new_token()
        self.token_hash = hash_token(token)
        return token


Holder = TypeVar("Holder", bound=TokenHolder)


def find_by_token(model: type[Holder], token: str | None, *options: ORMOption) -> Holder | None:
    """The row of ``model`` whose ``token_hash`` matches ``token``, or None."""
    from invites.extensions import db

    if not token or len(token) > 200:
        return None
    return db.session.scalar(
        db.select(model).options(*options).where(model.token_hash == hash_token(token))
    )


SESSION_KEY = "link_tokens"
KEPT_IN_SESSION = 20


def remember_in_session(obj: TokenHolder, token: str) -> None:
    """Keep a new link's token in the creator's signed session (the last 20), so the
    link's page can show its address after the redirect although only a hash is stored."""
    from flask import session

    key = f"{obj.__tablename__}:{obj.id}"
    kept = {k: v for k, v in session.get(SESSION_KEY, {}).items() if k != key}
    kept[key] = token
    session[SESSION_KEY] = dict(list(kept.items())[-KEPT_IN_SESSION:])


def token_from_session(obj: TokenHolder) -> str | None:
    """The token of ``obj`` if this browser created it and it still matches, else None."""
    from flask import session

    token = session.get(SESSION_KEY, {}).get(f"{obj.__tablename__}:{obj.id}")
    return token if token and hash_token(token) == obj.token_hash else None
