"""Link tokens: 32 random bytes in the URL; the database finds a row by the token's
SHA-256. Personal invitations keep nothing more. Links meant to be shared again (invite
links, join request links) also keep the token encrypted (AES-256-GCM, under a key
derived from SECRET_KEY by HKDF), so those who manage the link can copy it later."""
from __future__ import annotations

import base64
import binascii
import functools
import hashlib
import secrets
from typing import TYPE_CHECKING, Any, TypeVar

import sqlalchemy as sa
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from flask import current_app
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

    @classmethod
    def token_clause(cls, hashed: str) -> sa.ColumnElement[bool]:
        """Which row a token's hash opens (:func:`find_by_token`)."""
        return cls.token_hash == hashed


class ShareableTokenHolder(TokenHolder):
    """A link shown again to those who manage it: the token is also kept encrypted,
    never in clear. Rows from before this column, or sealed under an earlier SECRET_KEY,
    cannot be read back: :meth:`shareable_token` then answers None."""

    token_ciphertext: Mapped[str | None] = mapped_column(sa.String(200), nullable=True)

    def issue_token(self) -> str:
        token = super().issue_token()
        self.token_ciphertext = seal(token, self._token_label())
        return token

    def shareable_token(self) -> str | None:
        """The link's token, or None when it cannot be read back (see the class)."""
        if not self.token_ciphertext:
            return None
        token = unseal(self.token_ciphertext, self._token_label())
        return token if token is not None and hash_token(token) == self.token_hash else None

    def _token_label(self) -> bytes:
        # Bound to the table and the token's hash: a ciphertext copied onto another row
        # does not open there.
        return f"{self.__tablename__}:{self.token_hash}".encode()


# --- Sealing -----------------------------------------------------------------------------
# One key per SECRET_KEY, derived with HKDF-SHA256 under a fixed salt and label, so it is
# never the key that signs sessions; each token is sealed with AES-256-GCM under a random
# 96-bit nonce, its table and hash as associated data. Stored: "v1." + base64url(nonce +
# ciphertext + tag). SECRET_KEY_FALLBACKS (Flask's list of earlier keys) still open
# what they sealed, so a key can be rotated without losing the links' addresses.

SEAL_VERSION = "v1."
_KEY_SALT = b"invites link tokens"
_KEY_INFO = b"invites/tokens: AES-256-GCM key for link tokens, v1"


@functools.lru_cache(maxsize=8)
def _key(secret: str | bytes) -> bytes:
    material = secret.encode() if isinstance(secret, str) else secret
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=_KEY_SALT, info=_KEY_INFO).derive(material)


def _secrets() -> list[str | bytes]:
    keys = [current_app.config["SECRET_KEY"], *(current_app.config.get("SECRET_KEY_FALLBACKS") or [])]
    return [key for key in keys if key]


def seal(token: str, label: bytes) -> str:
    """``token`` encrypted under the current SECRET_KEY's derived key, as text."""
    nonce = secrets.token_bytes(12)
    sealed = AESGCM(_key(_secrets()[0])).encrypt(nonce, token.encode(), label)
    return SEAL_VERSION + base64.urlsafe_b64encode(nonce + sealed).decode("ascii")


def unseal(text: str, label: bytes) -> str | None:
    """What :func:`seal` sealed, or None when no key of this app opens it (another
    SECRET_KEY, another row, or a changed value)."""
    if not text.startswith(SEAL_VERSION):
        return None
    try:
        raw = base64.urlsafe_b64decode(text[len(SEAL_VERSION):])
    except (binascii.Error, ValueError):
        return None
    nonce, sealed = raw[:12], raw[12:]
    for secret in _secrets():
        try:
            return AESGCM(_key(secret)).decrypt(nonce, sealed, label).decode()
        except (InvalidTag, ValueError):
            continue
    return None


Holder = TypeVar("Holder", bound=TokenHolder)


def find_by_token(model: type[Holder], token: str | None, *options: ORMOption) -> Holder | None:
    """The row of ``model`` whose ``token_hash`` matches ``token``, or None."""
    from invites.extensions import db

    if not token or len(token) > 200:
        return None
    return db.session.scalar(
        db.select(model).options(*options).where(model.token_clause(hash_token(token)))
    )
