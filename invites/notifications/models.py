"""In-app notifications: the bell (F15)."""
from invites.clock import now
from invites.extensions import Model, db


class Notification(Model):
    __tablename__ = "notifications"

    id = db.Column(db.Integer, primary_key=True)
    user_id = db.Column(db.ForeignKey("users.id", ondelete="CASCADE"), nullable=False)
    org_id = db.Column(db.ForeignKey("organizations.id", ondelete="CASCADE"))
    kind = db.Column(db.String(40), nullable=False)
    # A sentence saved at the time; rendered escaped.
    text = db.Column(db.String(500), nullable=False)
    # An invitation the user can accept or decline inline.
    invitation_id = db.Column(db.ForeignKey("invitations.id", ondelete="CASCADE"))
    read_at = db.Column(db.DateTime)
    created_at = db.Column(db.DateTime, nullable=False, default=now)

    org = db.relationship("Organization")
    invitation = db.relationship("Invitation")

    __table_args__ = (
        db.Index("ix_notifications_user_created", "user_id", "created_at", "id"),
        db.Index("ix_notifications_user_unread", "user_id", "read_at"),
        db.Index("ix_notifications_invitation", "invitation_id"),
    )
