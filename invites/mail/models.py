from invites.clock import now
from invites.extensions import db


class OutboxMessage(db.Model):
    """A message kept instead of sent, when no MAIL_SERVER is configured."""

    __tablename__ = "outbox_messages"

    id = db.Column(db.Integer, primary_key=True)
    sender = db.Column(db.String(254), nullable=False)
    recipients = db.Column(db.Text, nullable=False)
    subject = db.Column(db.String(500), nullable=False)
    text_body = db.Column(db.Text, nullable=False)
    html_body = db.Column(db.Text, nullable=False)
    created_at = db.Column(db.DateTime, nullable=False, default=now)
