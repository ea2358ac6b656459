"""Invite links (F11): one shareable URL that lets many people join."""
from __future__ import annotations

from datetime import datetime, timedelta

from invites.clock import now
from invites.domains import AllowedDomains
from invites.extensions import Model, db
from invites.orgs.access import GrantsAccessUntil
from invites.orgs.models import Role
from invites.tokens import ShareableTokenHolder


class Access:
    ANYONE = "anyone"
    MEMBERS = "members"
    LABELS = {ANYONE: "Anyone with the link", MEMBERS: "Existing members only"}
    ALL = tuple(LABELS)


class Expiry:
    """The presets of the "Expiration" choice, and a custom date."""

    PRESETS = {
        "1h": ("1 hour", timedelta(hours=1)),
        "6h": ("6 hours", timedelta(hours=6)),
        "1d": ("1 day", timedelta(days=1)),
        "7d": ("7 days", timedelta(days=7)),
        "never": ("Never", None),
    }
    CUSTOM = "custom"
    CHOICES = [(key, label) for key, (label, _) in PRESETS.items()] + [(CUSTOM, "Custom date")]


invite_link_groups = db.Table(
    "invite_link_groups",
    db.Column("link_id", db.ForeignKey("invite_links.id", ondelete="CASCADE"), primary_key=True),
    db.Column("group_id", db.ForeignKey("groups.id", ondelete="CASCADE"), primary_key=True),
    db.Index("ix_invite_link_groups_group", "group_id"),
)


class InviteLink(AllowedDomains, GrantsAccessUntil, ShareableTokenHolder, Model):
    """``allowed_domains`` (:class:`AllowedDomains`): the email domains whose confirmed
    addresses may use the link; empty, anyone its access allows."""

    __tablename__ = "invite_links"

    id = db.Column(db.Integer, primary_key=True)
    org_id = db.Column(db.ForeignKey("organizations.id", ondelete="CASCADE"), nullable=False)
    access = db.Column(db.String(20), nullable=False, default=Access.MEMBERS)
    role = db.Column(db.String(20), nullable=False, default=Role.MEMBER)
    expires_at = db.Column(db.DateTime)  # None: never
    max_uses = db.Column(db.Integer)  # None: unlimited
    # Counted by a conditional UPDATE (see service.use_link), never read-then-written.
    uses = db.Column(db.Integer, nullable=False, default=0)
    created_by_id = db.Column(db.ForeignKey("users.id", ondelete="SET NULL"))
    created_at = db.Column(db.DateTime, nullable=False, default=now)
    # Deleted links are kept so their URL can say "deleted" rather than "unknown".
    deleted_at = db.Column(db.DateTime)

    org = db.relationship("Organization")
    created_by = db.relationship("User")
    groups = db.relationship("Group", secondary=invite_link_groups, order_by="Group.name")

    __table_args__ = (
        db.Index("ix_invite_links_org_created", "org_id", "created_at", "id"),
        db.CheckConstraint("access in ('anyone', 'members')", name="access"),
        db.CheckConstraint("role in ('owner', 'manager', 'member', 'collaborator')", name="role"),
        db.CheckConstraint("max_uses is null or max_uses >= 1", name="max_uses"),
        db.CheckConstraint("max_uses is null or uses <= max_uses", name="uses"),
    )

    def is_expired(self, at: datetime | None = None) -> bool:
        return self.expires_at is not None and self.expires_at <= (at or now())

    @property
    def is_used_up(self) -> bool:
        return self.max_uses is not None and self.uses >= self.max_uses

    def is_usable(self, at: datetime | None = None) -> bool:
        return self.deleted_at is None and not self.is_expired(at) and not self.is_used_up

    @property
    def state(self) -> str:
        if self.deleted_at is not None:
            return "deleted"
        if self.is_expired():
            return "expired"
        if self.is_used_up:
            return "used_up"
        return "active"

    @property
    def state_label(self) -> str:
        return {"deleted": "Deleted", "expired": "Expired", "used_up": "Used up", "active": "Active"}[self.state]

    @property
    def access_label(self) -> str:
        return Access.LABELS[self.access]

    @property
    def role_label(self) -> str:
        return Role.LABELS[self.role]
