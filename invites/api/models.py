"""Organization API tokens (issue 20): what a program presents to act in one organization."""
from __future__ import annotations

from datetime import datetime

from invites.clock import now
from invites.extensions import Model, db
from invites.tokens import TokenHolder


class Scope:
    READ = "read"
    WRITE = "write"
    LABELS = {READ: "Read", WRITE: "Read and write"}
    ALL = tuple(LABELS)


class ApiToken(TokenHolder, Model):
    """A bearer token of one organization. Only its hash is kept (``TokenHolder``): it is
    shown once, when made. It acts as the owner who made it, while they are an owner."""

    __tablename__ = "api_tokens"

    id = db.Column(db.Integer, primary_key=True)
    org_id = db.Column(db.ForeignKey("organizations.id", ondelete="CASCADE"), nullable=False)
    name = db.Column(db.String(80), nullable=False)
    scope = db.Column(db.String(10), nullable=False, default=Scope.READ)
    # The first characters of the token, shown in the panel so a leaked token can be told apart.
    prefix = db.Column(db.String(16), nullable=False)
    created_by_id = db.Column(db.ForeignKey("users.id", ondelete="CASCADE"), nullable=False)
    created_at = db.Column(db.DateTime, nullable=False, default=now)
    expires_at = db.Column(db.DateTime)  # None: never
    last_used_at = db.Column(db.DateTime)
    revoked_at = db.Column(db.DateTime)

    org = db.relationship("Organization")
    created_by = db.relationship("User")

    __table_args__ = (
        db.Index("ix_api_tokens_org_created", "org_id", "created_at", "id"),
        db.CheckConstraint("scope in ('read', 'write')", name="scope"),
    )

    def is_expired(self, at: datetime | None = None) -> bool:
        return self.expires_at is not None and self.expires_at <= (at or now())

    @property
    def state(self) -> str:
        if self.revoked_at is not None:
            return "revoked"
        if self.is_expired():
            return "expired"
        return "active"

    @property
    def state_label(self) -> str:
        return {"revoked": "Revoked", "expired": "Expired", "active": "Active"}[self.state]

    @property
    def scope_label(self) -> str:
        return Scope.LABELS[self.scope]

    @property
    def may_write(self) -> bool:
        return self.scope == Scope.WRITE
