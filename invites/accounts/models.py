from typing import TYPE_CHECKING

from flask import current_app
from flask_login import UserMixin
from werkzeug.security import check_password_hash, generate_password_hash

from invites.clock import now
from invites.extensions import Model, db


class User(UserMixin, Model):
    __tablename__ = "users"

    id = db.Column(db.Integer, primary_key=True)
    name = db.Column(db.String(120), nullable=False)
    # Stored lower-cased, like email: unique case-insensitively.
    username = db.Column(db.String(40), nullable=False, unique=True)
    # Stored lower-cased and trimmed: addresses are unique case-insensitively.
    email = db.Column(db.String(254), nullable=False, unique=True)
    password_hash = db.Column(db.String(255), nullable=False)
    email_verified_at = db.Column(db.DateTime)
    created_at = db.Column(db.DateTime, nullable=False, default=now)
    # An IANA zone name ("Europe/Paris") that pages show dates in; see invites/times.py.
    time_zone = db.Column(db.String(64), nullable=False, default="UTC", server_default="UTC")

    # The key of the login session this object was loaded or logged in with (not a
    # column: only its hash is stored, in user_sessions). Set by accounts/sessions.py.
    if TYPE_CHECKING:  # annotated at run time, the ORM would take it for a column
        session_key: str | None
    session_key = None

    def set_password(self, password: str) -> None:
        method = current_app.config.get("PASSWORD_HASH_METHOD", "scrypt")
        self.password_hash = generate_password_hash(password, method=method)

    def check_password(self, password: str) -> bool:
        return check_password_hash(self.password_hash, password)

    @property
    def is_verified(self) -> bool:
        return self.email_verified_at is not None

    def mark_verified(self) -> None:
        if self.email_verified_at is None:
            self.email_verified_at = now()

    def get_id(self) -> str:
        """What Flask-Login keeps in the session and remember-me cookies: ``"<id>:<key>"``,
        so a cookie opens nothing once its session row is gone (accounts/sessions.py)."""
        if not self.session_key:
            raise RuntimeError("Log in through invites.accounts.sessions.log_in, not login_user.")
        return f"{self.id}:{self.session_key}"

    # UserMixin compares users by get_id(), which now names a session: compare accounts.
    def __eq__(self, other: object) -> bool:
        if isinstance(other, User):
            return self is other or (self.id is not None and self.id == other.id)
        return NotImplemented

    __hash__ = object.__hash__

    def __repr__(self) -> str:
        return f"<User {self.username}>"


class UserSession(Model):
    """One login: the row a browser's session and remember-me cookies point at. Deleting it
    (logout, "Log out of all devices", a password change) makes copies of those cookies
    worthless. Only the SHA-256 of the key is stored; the key travels in the cookies."""

    __tablename__ = "user_sessions"

    id = db.Column(db.Integer, primary_key=True)
    user_id = db.Column(db.ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True)
    key_hash = db.Column(db.String(64), nullable=False, unique=True)
    created_at = db.Column(db.DateTime, nullable=False, default=now)
