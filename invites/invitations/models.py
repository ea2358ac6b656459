"""Email invitations (F7–F10): one row per address per organization invitation."""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import ColumnElement

from invites.clock import now
from invites.extensions import Model, db
from invites.orgs.access import GrantsAccessUntil
from invites.orgs.models import Role
from invites.tokens import TokenHolder


class Status:
    """Stored states. "Expired" and "Not delivered" are derived from a pending row."""

    PENDING = "pending"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    CANCELLED = "cancelled"
    STORED = (PENDING, ACCEPTED, DECLINED, CANCELLED)
    # What the panel shows and filters by.
    EXPIRED = "expired"
    NOT_DELIVERED = "not_delivered"
    LABELS = {
        PENDING: "Pending",
        NOT_DELIVERED: "Not delivered",
        ACCEPTED: "Accepted",
        DECLINED: "Declined",
        CANCELLED: "Cancelled",
        EXPIRED: "Expired",
    }


invitation_groups = db.Table(
    "invitation_groups",
    db.Column("invitation_id", db.ForeignKey("invitations.id", ondelete="CASCADE"), primary_key=True),
    db.Column("group_id", db.ForeignKey("groups.id", ondelete="CASCADE"), primary_key=True),
    db.Index("ix_invitation_groups_group", "group_id"),
)


def next_reminder(
    sent_at: datetime, expires_at: datetime, days_before: int | None, halfway: bool,
    after: datetime,
) -> datetime | None:
    """When the next reminder of an invitation sent at ``sent_at`` and expiring at
    ``expires_at`` is due, the last one having gone out at ``after``: halfway through its
    life (when ``halfway``), then ``days_before`` days before expiry (when set), each only
    if it falls after ``after`` and while the invitation is still open. None: no more."""
    times = []
    final = expires_at - timedelta(days=days_before) if days_before else None
    if halfway:
        middle = sent_at + (expires_at - sent_at) / 2
        if final is None or middle < final:
            times.append(middle)
    if final is not None:
        times.append(final)
    return next((t for t in times if after < t < expires_at), None)


class Invitation(GrantsAccessUntil, TokenHolder, Model):
    __tablename__ = "invitations"

    id = db.Column(db.Integer, primary_key=True)
    org_id = db.Column(db.ForeignKey("organizations.id", ondelete="CASCADE"), nullable=False)
    # The address it was sent to, normalized; the only thing shown until it is accepted.
    email = db.Column(db.String(254), nullable=False)
    role = db.Column(db.String(20), nullable=False, default=Role.MEMBER)
    status = db.Column(db.String(20), nullable=False, default=Status.PENDING)
    inviter_id = db.Column(db.ForeignKey("users.id", ondelete="SET NULL"))
    message = db.Column(db.Text, nullable=False, default="")
    expires_at = db.Column(db.DateTime, nullable=False)
    sent_at = db.Column(db.DateTime)
    # The mail server's reason when the last sending failed; None once delivered.
    delivery_error = db.Column(db.String(500))
    responded_at = db.Column(db.DateTime)
    accepted_user_id = db.Column(db.ForeignKey("users.id", ondelete="SET NULL"))
    # The Import Learners run that made it, if any (F14: invitations link back to it).
    import_id = db.Column(db.ForeignKey("imports.id", ondelete="SET NULL"))
    created_at = db.Column(db.DateTime, nullable=False, default=now)
    # Bumped on every change: the panel polls for it to refresh rows without a reload.
    updated_at = db.Column(db.DateTime, nullable=False, default=now, onupdate=now)
    # Reminders (issue 18, ``invitations/reminders.py``): when the next is due (None: none
    # is), when the last went out, and the hash of the second link token it carried.
    remind_at = db.Column(db.DateTime, nullable=True)
    reminded_at = db.Column(db.DateTime, nullable=True)
    reminder_token_hash = db.Column(db.String(64), nullable=True)
    # Webhooks (issue 21): when the "invitation.expired" event was written (None: not yet,
    # or renewed since). flask deliver-webhooks writes it once the expiry has passed.
    expired_event_at = db.Column(db.DateTime, nullable=True)

    org = db.relationship("Organization")
    inviter = db.relationship("User", foreign_keys=[inviter_id])
    accepted_user = db.relationship("User", foreign_keys=[accepted_user_id])
    groups = db.relationship("Group", secondary=invitation_groups, order_by="Group.name")

    __table_args__ = (
        # F8: one pending invitation per address per organization, held by the database.
        db.Index(
            "uq_invitations_pending_email", "org_id", "email", unique=True,
            sqlite_where=db.text("status = 'pending'"),
            postgresql_where=db.text("status = 'pending'"),
        ),
        db.Index("ix_invitations_org_created", "org_id", "created_at", "id"),
        db.Index("ix_invitations_org_status_created", "org_id", "status", "created_at", "id"),
        db.Index("ix_invitations_org_updated", "org_id", "updated_at"),
        db.Index("ix_invitations_email_status", "email", "status"),
        db.Index("ix_invitations_import", "import_id"),
        db.Index("ix_invitations_remind_at", "remind_at", "id"),  # the runners' order
        db.Index(
            "ix_invitations_pending_expiry", "org_id", "expires_at",
            sqlite_where=db.text("status = 'pending'"), postgresql_where=db.text("status = 'pending'"),
        ),
        db.Index("uq_invitations_reminder_token_hash", "reminder_token_hash", unique=True),
        db.CheckConstraint(
            "status in ('pending', 'accepted', 'declined', 'cancelled')", name="status"
        ),
        db.CheckConstraint(
            "role in ('owner', 'manager', 'member', 'collaborator')", name="role"
        ),
    )

    def renew(self, lifetime_days: int, remind_days_before: int | None = None,
              remind_halfway: bool = False) -> str:
        """A fresh token and expiry; any earlier link (a reminder's too) stops working, and
        the reminders start over from the new expiry. Returns the token."""
        token = self.issue_token()
        at = now()
        self.expires_at = at + timedelta(days=lifetime_days)
        self.reminder_token_hash = None
        self.reminded_at = None
        self.expired_event_at = None
        self.remind_at = next_reminder(at, self.expires_at, remind_days_before, remind_halfway, after=at)
        return token

    def stop_reminders(self) -> None:
        """Answered or cancelled: no reminder is due any more."""
        self.remind_at = None

    @classmethod
    def token_clause(cls, hashed: str) -> ColumnElement[bool]:
        """The first mail's link, or the latest reminder's."""
        return (cls.token_hash == hashed) | (cls.reminder_token_hash == hashed)

    def is_expired(self, at: datetime | None = None) -> bool:
        return self.status == Status.PENDING and self.expires_at <= (at or now())

    def is_open(self, at: datetime | None = None) -> bool:
        """Pending and not expired: it can still be accepted or declined."""
        return self.status == Status.PENDING and not self.is_expired(at)

    @property
    def shown_status(self) -> str:
        if self.status != Status.PENDING:
            return self.status
        if self.is_expired():
            return Status.EXPIRED
        if self.delivery_error:
            return Status.NOT_DELIVERED
        return Status.PENDING

    @property
    def status_label(self) -> str:
        return Status.LABELS[self.shown_status]

    @property
    def role_label(self) -> str:
        return Role.LABELS[self.role]

    @property
    def may_resend(self) -> bool:
        return self.status == Status.PENDING

    @property
    def may_cancel(self) -> bool:
        return self.status == Status.PENDING

    def __repr__(self) -> str:
        return f"<Invitation {self.email} {self.status}>"


class InvitationDay(Model):
    """How many of an organization's invitations were made on ``day`` with this stored
    ``status`` and day of expiry, for the Overview's funnel. Written only by the database:
    triggers on invitations keep it (migration 0021)."""

    __tablename__ = "invitation_days"

    org_id = db.Column(db.ForeignKey("organizations.id", ondelete="CASCADE"), primary_key=True)
    day = db.Column(db.Date, primary_key=True)
    status = db.Column(db.String(20), primary_key=True)
    expires_day = db.Column(db.Date, primary_key=True)
    invitations = db.Column(db.Integer, nullable=False)
