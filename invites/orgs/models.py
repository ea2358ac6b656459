from __future__ import annotations

from typing import Any, cast

from sqlalchemy import Connection, Table, event, inspect, select
from sqlalchemy.orm import Mapper, deferred, validates

from invites.accounts.models import User
from invites.clock import now
from invites.extensions import Model, db
from invites.orgs.access import GrantsAccessUntil


class Role:
    """The four roles, highest first. ``rank`` orders them for "never above your own"."""

    OWNER = "owner"
    MANAGER = "manager"
    MEMBER = "member"
    COLLABORATOR = "collaborator"
    ALL = (OWNER, MANAGER, MEMBER, COLLABORATOR)
    LABELS = {OWNER: "Owner", MANAGER: "Manager", MEMBER: "Member", COLLABORATOR: "Collaborator"}

    @classmethod
    def rank(cls, role: str) -> int:
        return len(cls.ALL) - cls.ALL.index(role)

    @classmethod
    def choices(cls, at_most: str | None = None) -> list[tuple[str, str]]:
        """(value, label) pairs, limited to roles not above ``at_most``."""
        return [
            (r, cls.LABELS[r])
            for r in cls.ALL
            if at_most is None or cls.rank(r) <= cls.rank(at_most)
        ]


class JoinedVia:
    """How a membership came about, set by ``admission.admit`` (None: before it was kept)."""

    INVITATION = "invitation"
    IMPORT = "import"
    LINK = "link"
    REQUEST = "request"
    JOIN_PAGE = "join_page"
    CREATED = "created"
    ALL = (INVITATION, IMPORT, LINK, REQUEST, JOIN_PAGE, CREATED)
    LABELS = {
        INVITATION: "Invitation", IMPORT: "Import", LINK: "Invite link", REQUEST: "Join request",
        JOIN_PAGE: "Join Web Page", CREATED: "Created the organization",
    }
    EARLIER = "Earlier"  # memberships made before the way in was recorded

    @classmethod
    def label(cls, value: str | None) -> str:
        return cls.LABELS.get(value or "", cls.EARLIER)


class Plan:
    FREE = "free"
    PREMIUM = "premium"
    ALL = (FREE, PREMIUM)


class Organization(Model):
    __tablename__ = "organizations"

    id = db.Column(db.Integer, primary_key=True)
    name = db.Column(db.String(120), nullable=False)
    slug = db.Column(db.String(60), nullable=False, unique=True)
    description = db.Column(db.Text, nullable=False, default="")
    plan = db.Column(db.String(20), nullable=False, default=Plan.FREE)
    # F5 "Who may add new people": owners always may; these extend it. Seed 001: "By
    # default, only admins can add new people", so a new organization starts with both off.
    managers_may_add_people = db.Column(db.Boolean, nullable=False, default=False)
    members_may_add_people = db.Column(db.Boolean, nullable=False, default=False)
    invitation_lifetime_days = db.Column(db.Integer, nullable=False, default=14)
    # Reminders (issue 18): this many days before an invitation expires (None: no
    # reminders), and optionally halfway through its life too. ``flask send-reminders``.
    reminder_days_before = db.Column(db.Integer, nullable=True, default=2, server_default="2")
    reminder_halfway = db.Column(db.Boolean, nullable=False, default=False, server_default=db.false())
    require_group_on_invite = db.Column(db.Boolean, nullable=False, default=False)
    # F7: the invitation email's opening paragraph. The subject is never free text: it
    # always names the inviter and the organization (security review F4).
    invitation_intro = db.Column(db.Text, nullable=False, default="", server_default="")
    created_at = db.Column(db.DateTime, nullable=False, default=now)
    # Seat limits (issue 19): the most members the owners allow; None for no limit (the
    # plan may still set one: invites.orgs.seats).
    member_limit = db.Column(db.Integer)

    __table_args__ = (
        db.CheckConstraint("plan in ('free', 'premium')", name="plan"),
        db.CheckConstraint("invitation_lifetime_days between 1 and 365", name="lifetime"),
    )

    @property
    def is_premium(self) -> bool:
        return self.plan == Plan.PREMIUM

    def __repr__(self) -> str:
        return f"<Organization {self.slug}>"


def lock_organization(org: Organization) -> None:
    """Serialize changes that count an organization's members (its owners, its seats):
    a row lock on PostgreSQL, held to the transaction's end; SQLite lets one writer in."""
    db.session.execute(db.select(Organization.id).where(Organization.id == org.id).with_for_update())


class Membership(GrantsAccessUntil, Model):
    __tablename__ = "memberships"

    id = db.Column(db.Integer, primary_key=True)
    org_id = db.Column(db.ForeignKey("organizations.id", ondelete="CASCADE"), nullable=False)
    user_id = db.Column(db.ForeignKey("users.id", ondelete="CASCADE"), nullable=False)
    role = db.Column(db.String(20), nullable=False)
    created_at = db.Column(db.DateTime, nullable=False, default=now)
    # The Members panel's order (owners first, then by name), kept on the row so that one
    # index serves it at any size: sorting on users.name across the join read every
    # membership of the organization (250 ms at 100,000 members). Both are kept up to
    # date here: role_order by the validator below, sort_name by the listeners at the end.
    role_order = db.Column(db.SmallInteger, nullable=False)
    sort_name = db.Column(db.String(120), nullable=False)
    # What the Members panel's search looks inside (``search_text`` below), kept on the row
    # for the same reason: on PostgreSQL the indexes of memberships find a term's members,
    # where a search across the join to users read tens of thousands of them.
    # Deferred: only the database reads it, and list pages load many memberships.
    search_text = deferred(db.Column(db.Text, nullable=False))
    # JoinedVia: the way in, for the Overview's recent joins and joins per week.
    joined_via = db.Column(db.String(20))
    # Access that ends (issue 19): ``access_until`` from GrantsAccessUntil, the first
    # moment without it (None: no end); when the member and the staff were told it is
    # ending (invites.orgs.expiry).
    access_warned_at = db.Column(db.DateTime)

    org = db.relationship("Organization")
    user = db.relationship("User")

    __table_args__ = (
        db.UniqueConstraint("org_id", "user_id", name="uq_memberships_org_user"),
        db.Index("ix_memberships_user", "user_id"),
        db.Index("ix_memberships_org_role", "org_id", "role"),
        db.Index("ix_memberships_org_order", "org_id", "role_order", "sort_name", "id"),
        # The Overview's recent joins and joins per week (joined_via read from the index).
        db.Index("ix_memberships_org_created", "org_id", "created_at", "id", "joined_via"),
        # flask expire-memberships: the ends due, in order.
        db.Index("ix_memberships_access_until", "access_until", "id"),
        db.CheckConstraint(
            "role in ('owner', 'manager', 'member', 'collaborator')", name="role"
        ),
    )

    @validates("role")
    def _keep_role_order(self, key: str, role: str) -> str:
        # An unknown role gets a place after the others; the check constraint refuses it.
        self.role_order = Role.ALL.index(role) if role in Role.ALL else len(Role.ALL)
        return role

    @property
    def role_label(self) -> str:
        return Role.LABELS[self.role]

    @property
    def joined_via_label(self) -> str:
        return JoinedVia.label(self.joined_via)


def sort_name(name: str | None) -> str:
    """How the Members panel orders a name."""
    return (name or "").strip().lower()[:120]


# Between the fields of ``search_text``; a line break inside a field becomes a space, and
# a term holding one matches nothing (``orgs.service.member_matches``).
SEARCH_SEPARATOR = "\n"


def search_text(name: str | None, username: str | None, email: str | None) -> str:
    """What the Members panel's search looks inside: the account's name, username and
    address, lower-cased as the search term is, one per line."""
    return SEARCH_SEPARATOR.join(
        (field or "").lower().replace(SEARCH_SEPARATOR, " ") for field in (name, username, email)
    )


class MembershipDay(Model):
    """How many of an organization's memberships began on ``day`` by ``way`` in (a
    JoinedVia, "" when unknown), for the Overview's joins per week. Written only by the
    database: triggers on memberships keep it (migration 0021)."""

    __tablename__ = "membership_days"

    org_id = db.Column(db.ForeignKey("organizations.id", ondelete="CASCADE"), primary_key=True)
    day = db.Column(db.Date, primary_key=True)
    way = db.Column(db.String(20), primary_key=True)
    members = db.Column(db.Integer, nullable=False)


@event.listens_for(Membership, "before_insert")
def _fill_from_account(mapper: Mapper[Any], connection: Connection, membership: Membership) -> None:
    user = membership.__dict__.get("user")  # already loaded: no query
    if user is not None:
        name, username, email = user.name, user.username, user.email
    else:
        name, username, email = connection.execute(
            select(User.name, User.username, User.email).where(User.id == membership.user_id)
        ).one()
    membership.sort_name = sort_name(name)
    membership.search_text = search_text(name, username, email)


@event.listens_for(User, "after_update")
def _follow_account_changes(mapper: Mapper[Any], connection: Connection, user: User) -> None:
    """A renamed user keeps their place in every Members panel, and the search finds a
    user by their new name, username or address."""
    fields: Any = inspect(user).attrs
    if not any(fields[field].history.has_changes() for field in ("name", "username", "email")):
        return
    values = {"search_text": search_text(user.name, user.username, user.email)}
    if fields.name.history.has_changes():
        values["sort_name"] = sort_name(user.name)
    connection.execute(
        cast(Table, Membership.__table__).update().where(Membership.user_id == user.id).values(**values)
    )
