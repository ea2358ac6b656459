"""Join request links and join requests (F12)."""
from __future__ import annotations

from invites.clock import now
from invites.extensions import Model, db
from invites.orgs.models import Role
from invites.tokens import ShareableTokenHolder


class Notify:
    """Who hears about a new request made through a link."""

    ALL = "all"
    SPECIFIC = "specific"
    NOBODY = "nobody"
    LABELS = {
        ALL: "All Owners and Managers",
        SPECIFIC: "Specific Owners and/or Managers",
        NOBODY: "Nobody",
    }


class RequestStatus:
    PENDING = "pending"
    ACCEPTED = "accepted"
    REJECTED = "rejected"
    LABELS = {PENDING: "Pending", ACCEPTED: "Accepted", REJECTED: "Rejected"}


# The roles a join request link may grant (the radio buttons users know).
LINK_ROLES = (Role.MEMBER, Role.COLLABORATOR)

join_link_groups = db.Table(
    "join_link_groups",
    db.Column("link_id", db.ForeignKey("join_links.id", ondelete="CASCADE"), primary_key=True),
    db.Column("group_id", db.ForeignKey("groups.id", ondelete="CASCADE"), primary_key=True),
    db.Index("ix_join_link_groups_group", "group_id"),
)

join_link_recipients = db.Table(
    "join_link_recipients",
    db.Column("link_id", db.ForeignKey("join_links.id", ondelete="CASCADE"), primary_key=True),
    db.Column("user_id", db.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    db.Index("ix_join_link_recipients_user", "user_id"),
)


class JoinLink(ShareableTokenHolder, Model):
    """A join request link: people who follow it ask to join; staff decide."""

    __tablename__ = "join_links"

    id = db.Column(db.Integer, primary_key=True)
    org_id = db.Column(db.ForeignKey("organizations.id", ondelete="CASCADE"), nullable=False)
    description = db.Column(db.String(200), nullable=False)
    role = db.Column(db.String(20), nullable=False, default=Role.MEMBER)
    notify = db.Column(db.String(20), nullable=False, default=Notify.ALL)
    active = db.Column(db.Boolean, nullable=False, default=True)
    created_by_id = db.Column(db.ForeignKey("users.id", ondelete="SET NULL"))
    created_at = db.Column(db.DateTime, nullable=False, default=now)

    org = db.relationship("Organization")
    created_by = db.relationship("User", foreign_keys=[created_by_id])
    groups = db.relationship("Group", secondary=join_link_groups, order_by="Group.name")
    recipients = db.relationship("User", secondary=join_link_recipients, order_by="User.name")

    __table_args__ = (
        db.Index("ix_join_links_org_created", "org_id", "created_at", "id"),
        db.CheckConstraint("role in ('member', 'collaborator')", name="role"),
        db.CheckConstraint("notify in ('all', 'specific', 'nobody')", name="notify"),
    )

    @property
    def role_label(self) -> str:
        return Role.LABELS[self.role]

    @property
    def notify_label(self) -> str:
        return Notify.LABELS[self.notify]


class JoinRequest(Model):
    __tablename__ = "join_requests"

    id = db.Column(db.Integer, primary_key=True)
    org_id = db.Column(db.ForeignKey("organizations.id", ondelete="CASCADE"), nullable=False)
    link_id = db.Column(db.ForeignKey("join_links.id", ondelete="SET NULL"))
    user_id = db.Column(db.ForeignKey("users.id", ondelete="CASCADE"), nullable=False)
    message = db.Column(db.Text, nullable=False, default="")
    status = db.Column(db.String(20), nullable=False, default=RequestStatus.PENDING)
    created_at = db.Column(db.DateTime, nullable=False, default=now)
    decided_at = db.Column(db.DateTime)
    decided_by_id = db.Column(db.ForeignKey("users.id", ondelete="SET NULL"))
    # The waiting list (issue 19): someone who accepted an invitation or used an invite
    # link when every seat was taken. Accepting grants what that way in would have.
    waiting = db.Column(db.Boolean, nullable=False, default=False)
    invitation_id = db.Column(db.ForeignKey("invitations.id", ondelete="SET NULL",
                                            name="fk_join_requests_invitation"))
    invite_link_id = db.Column(db.ForeignKey("invite_links.id", ondelete="SET NULL",
                                             name="fk_join_requests_invite_link"))

    org = db.relationship("Organization")
    link = db.relationship("JoinLink")
    invitation = db.relationship("Invitation")
    invite_link = db.relationship("InviteLink")
    user = db.relationship("User", foreign_keys=[user_id])
    decided_by = db.relationship("User", foreign_keys=[decided_by_id])

    __table_args__ = (
        # One open request per person per organization, held by the database.
        db.Index(
            "uq_join_requests_pending", "org_id", "user_id", unique=True,
            sqlite_where=db.text("status = 'pending'"),
            postgresql_where=db.text("status = 'pending'"),
        ),
        db.Index("ix_join_requests_org_status_created", "org_id", "status", "created_at", "id"),
        db.Index("ix_join_requests_user", "user_id"),
        db.CheckConstraint("status in ('pending', 'accepted', 'rejected')", name="status"),
    )

    @property
    def status_label(self) -> str:
        return RequestStatus.LABELS[self.status]
