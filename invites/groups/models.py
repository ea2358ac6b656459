from invites.clock import now
from invites.extensions import Model, db


class JoinMethod:
    OPEN = "open"
    INVITE_ONLY = "invite_only"
    REQUEST = "request"
    LABELS = {OPEN: "Open", INVITE_ONLY: "Invite only", REQUEST: "Request"}
    ALL = tuple(LABELS)


class Group(Model):
    __tablename__ = "groups"

    id = db.Column(db.Integer, primary_key=True)
    org_id = db.Column(db.ForeignKey("organizations.id", ondelete="CASCADE"), nullable=False)
    name = db.Column(db.String(80), nullable=False)
    join_method = db.Column(db.String(20), nullable=False, default=JoinMethod.INVITE_ONLY)
    # What the group is for, in a sentence: the invitation email shows it beside the name.
    description = db.Column(db.Text, nullable=False, default="", server_default="")
    created_at = db.Column(db.DateTime, nullable=False, default=now)

    org = db.relationship("Organization")

    __table_args__ = (
        db.UniqueConstraint("org_id", "name", name="uq_groups_org_name"),
        db.CheckConstraint("join_method in ('open', 'invite_only', 'request')", name="join_method"),
    )

    @property
    def join_method_label(self) -> str:
        return JoinMethod.LABELS[self.join_method]


# The Groups panel's order (by name, whatever the case), read from the index at any size.
db.Index("ix_groups_org_lower_name", Group.org_id, db.func.lower(Group.name), Group.id)


class GroupMember(Model):
    __tablename__ = "group_members"

    group_id = db.Column(db.ForeignKey("groups.id", ondelete="CASCADE"), primary_key=True)
    user_id = db.Column(db.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    is_manager = db.Column(db.Boolean, nullable=False, default=False)
    created_at = db.Column(db.DateTime, nullable=False, default=now)

    group = db.relationship("Group")
    user = db.relationship("User")

    __table_args__ = (db.Index("ix_group_members_user", "user_id"),)
