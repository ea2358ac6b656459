"""Import Learners (F14, premium): a spreadsheet of people, previewed, then invited."""
from invites.clock import now
from invites.extensions import Model, db
from invites.orgs.access import GrantsAccessUntil


class Fate:
    """What the preview says will become of a row."""

    INVITE = "invite"
    RESEND = "resend"
    MEMBER = "member"
    INVALID_EMAIL = "invalid_email"
    UNKNOWN_GROUP = "unknown_group"
    DUPLICATE = "duplicate"
    LABELS = {
        INVITE: "Will be invited",
        RESEND: "Already invited: will be resent",
        MEMBER: "Already a member: skipped",
        INVALID_EMAIL: "Invalid email",
        UNKNOWN_GROUP: "Unknown group",
        DUPLICATE: "Duplicate in file",
    }
    SENDS = (INVITE, RESEND)


class ImportStatus:
    PREVIEWED = "previewed"
    DONE = "done"
    LABELS = {PREVIEWED: "Previewed, not sent", DONE: "Sent"}


class Import(GrantsAccessUntil, Model):
    __tablename__ = "imports"

    id = db.Column(db.Integer, primary_key=True)
    org_id = db.Column(db.ForeignKey("organizations.id", ondelete="CASCADE"), nullable=False)
    created_by_id = db.Column(db.ForeignKey("users.id", ondelete="SET NULL"))
    filename = db.Column(db.String(255), nullable=False)
    status = db.Column(db.String(20), nullable=False, default=ImportStatus.PREVIEWED)
    created_at = db.Column(db.DateTime, nullable=False, default=now)
    ran_at = db.Column(db.DateTime)
    sent_count = db.Column(db.Integer, nullable=False, default=0)
    failed_count = db.Column(db.Integer, nullable=False, default=0)

    org = db.relationship("Organization")
    created_by = db.relationship("User")
    rows = db.relationship("ImportRow", order_by="ImportRow.row_number", back_populates="import_",
                           cascade="all, delete-orphan")

    __table_args__ = (
        db.Index("ix_imports_org_created", "org_id", "created_at", "id"),
        db.CheckConstraint("status in ('previewed', 'done')", name="status"),
    )

    @property
    def status_label(self) -> str:
        return ImportStatus.LABELS[self.status]


class ImportRow(Model):
    __tablename__ = "import_rows"

    id = db.Column(db.Integer, primary_key=True)
    import_id = db.Column(db.ForeignKey("imports.id", ondelete="CASCADE"), nullable=False)
    row_number = db.Column(db.Integer, nullable=False)  # as in the spreadsheet (header = 1)
    # What the file said, kept as text (a "=HYPERLINK(...)" stays a string, never run).
    email = db.Column(db.String(500), nullable=False, default="")
    groups = db.Column(db.String(1000), nullable=False, default="")
    first_name = db.Column(db.String(200), nullable=False, default="")
    last_name = db.Column(db.String(200), nullable=False, default="")
    normalized_email = db.Column(db.String(254))
    fate = db.Column(db.String(20), nullable=False)
    detail = db.Column(db.String(500), nullable=False, default="")
    # After "Continue": sent, not_delivered (with the reason), or skipped.
    outcome = db.Column(db.String(20))
    outcome_detail = db.Column(db.String(500))
    invitation_id = db.Column(db.ForeignKey("invitations.id", ondelete="SET NULL"))

    import_ = db.relationship("Import", back_populates="rows")
    invitation = db.relationship("Invitation")

    __table_args__ = (db.Index("ix_import_rows_import_row", "import_id", "row_number"),)

    @property
    def fate_label(self) -> str:
        return Fate.LABELS[self.fate]
