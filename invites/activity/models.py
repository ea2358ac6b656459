from invites.clock import now
from invites.extensions import Model, db


class Activity(Model):
    """One line of "who did what to what, when" in an organization."""

    __tablename__ = "activities"

    id = db.Column(db.Integer, primary_key=True)
    org_id = db.Column(db.ForeignKey("organizations.id", ondelete="CASCADE"), nullable=False)
    actor_id = db.Column(db.ForeignKey("users.id", ondelete="SET NULL"))
    verb = db.Column(db.String(60), nullable=False)
    target_type = db.Column(db.String(40))
    target_id = db.Column(db.Integer)
    # A readable sentence fragment saved at the time, so it stays true after renames.
    summary = db.Column(db.String(500), nullable=False, default="")
    created_at = db.Column(db.DateTime, nullable=False, default=now)

    actor = db.relationship("User")

    __table_args__ = (db.Index("ix_activities_org_created", "org_id", "created_at", "id"),)
