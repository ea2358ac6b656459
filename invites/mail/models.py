from invites.clock import now
from invites.extensions import Model, db


class OutboxMessage(Model):
    """A message kept instead of sent, when no MAIL_SERVER is configured."""

    __tablename__ = "outbox_messages"

    id = db.Column(db.Integer, primary_key=True)
    sender = db.Column(db.String(254), nullable=False)
    recipients = db.Column(db.Text, nullable=False)
    subject = db.Column(db.String(500), nullable=False)
    text_body = db.Column(db.Text, nullable=False)
    html_body = db.Column(db.Text, nullable=False)
    created_at = db.Column(db.DateTime, nullable=False, default=now)


class MailQuotaUsage(Model):
    """How many invitation mails one account sent from one organization on one (UTC) day:
    what the daily caps of ``mail/quota.py`` count (security review F4)."""

    __tablename__ = "mail_quota_usage"

    id = db.Column(db.Integer, primary_key=True)
    org_id = db.Column(db.ForeignKey("organizations.id", ondelete="CASCADE"), nullable=False)
    user_id = db.Column(db.ForeignKey("users.id", ondelete="CASCADE"), nullable=False)
    day = db.Column(db.Date, nullable=False)
    sent = db.Column(db.Integer, nullable=False)

    __table_args__ = (
        db.UniqueConstraint("org_id", "user_id", "day", name="uq_mail_quota_usage_org_user_day"),
        db.Index("ix_mail_quota_usage_user_day", "user_id", "day"),
    )
