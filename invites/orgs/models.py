from invites.clock import now
from invites.extensions import db


class Role:
    """The four roles, highest first. ``rank`` orders them for "never above your own"."""

    OWNER = "owner"
    MANAGER = "manager"
    MEMBER = "member"
    COLLABORATOR = "collaborator"
    ALL = (OWNER, MANAGER, MEMBER, COLLABORATOR)
    LABELS = {OWNER: "Owner", MANAGER: "Manager", MEMBER: "Member", COLLABORATOR: "Collaborator"}

    @classmethod
    def rank(cls, role):
        return len(cls.ALL) - cls.ALL.index(role)

    @classmethod
    def choices(cls, at_most=None):
        """(value, label) pairs, limited to roles not above ``at_most``."""
        return [
            (r, cls.LABELS[r])
            for r in cls.ALL
            if at_most is None or cls.rank(r) <= cls.rank(at_most)
        ]


class Plan:
    FREE = "free"
    PREMIUM = "premium"
    ALL = (FREE, PREMIUM)


class Organization(db.Model):
    __tablename__ = "organizations"

    id = db.Column(db.Integer, primary_key=True)
    name = db.Column(db.String(120), nullable=False)
    slug = db.Column(db.String(60), nullable=False, unique=True)
    description = db.Column(db.Text, nullable=False, default="")
    plan = db.Column(db.String(20), nullable=False, default=Plan.FREE)
    # F5 "Who may add new people": owners always may; these extend it.
    managers_may_add_people = db.Column(db.Boolean, nullable=False, default=True)
    members_may_add_people = db.Column(db.Boolean, nullable=False, default=False)
    invitation_lifetime_days = db.Column(db.Integer, nullable=False, default=14)
    require_group_on_invite = db.Column(db.Boolean, nullable=False, default=False)
    # F7: the invitation email's subject and opening paragraph; empty means the default.
    invitation_subject = db.Column(db.String(200), nullable=False, default="", server_default="")
    invitation_intro = db.Column(db.Text, nullable=False, default="", server_default="")
    created_at = db.Column(db.DateTime, nullable=False, default=now)

    __table_args__ = (
        db.CheckConstraint("plan in ('free', 'premium')", name="plan"),
        db.CheckConstraint("invitation_lifetime_days between 1 and 365", name="lifetime"),
    )

    @property
    def is_premium(self):
        return self.plan == Plan.PREMIUM

    def __repr__(self):
        return f"<Organization {self.slug}>"


class Membership(db.Model):
    __tablename__ = "memberships"

    id = db.Column(db.Integer, primary_key=True)
    org_id = db.Column(db.ForeignKey("organizations.id", ondelete="CASCADE"), nullable=False)
    user_id = db.Column(db.ForeignKey("users.id", ondelete="CASCADE"), nullable=False)
    role = db.Column(db.String(20), nullable=False)
    created_at = db.Column(db.DateTime, nullable=False, default=now)

    org = db.relationship("Organization")
    user = db.relationship("User")

    __table_args__ = (
        db.UniqueConstraint("org_id", "user_id", name="uq_memberships_org_user"),
        db.Index("ix_memberships_user", "user_id"),
        db.Index("ix_memberships_org_role", "org_id", "role"),
        db.CheckConstraint(
            "role in ('owner', 'manager', 'member', 'collaborator')", name="role"
        ),
    )

    @property
    def role_label(self):
        return Role.LABELS[self.role]
