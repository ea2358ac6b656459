"""The public Join Web Page of an organization (F13, premium)."""
from invites.domains import AllowedDomains
from invites.extensions import Model, db
from invites.orgs.access import GrantsAccessUntil

join_page_groups = db.Table(
    "join_page_groups",
    db.Column("page_id", db.ForeignKey("join_pages.id", ondelete="CASCADE"), primary_key=True),
    db.Column("group_id", db.ForeignKey("groups.id", ondelete="CASCADE"), primary_key=True),
    db.Index("ix_join_page_groups_group", "group_id"),
)


class JoinPage(AllowedDomains, GrantsAccessUntil, Model):
    """One per organization, made when an owner first opens the panel. Off by default.
    Its ``allowed_domains`` (:class:`AllowedDomains`): empty lets anyone join."""

    __tablename__ = "join_pages"

    id = db.Column(db.Integer, primary_key=True)
    org_id = db.Column(db.ForeignKey("organizations.id", ondelete="CASCADE"), nullable=False, unique=True)
    enabled = db.Column(db.Boolean, nullable=False, default=False)
    # The address is /join/<slug>; changing the slug retires the old address.
    slug = db.Column(db.String(60), nullable=False, unique=True)
    org = db.relationship("Organization")
    groups = db.relationship("Group", secondary=join_page_groups, order_by="Group.name")
