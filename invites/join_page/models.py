"""The public Join Web Page of an organization (F13, premium)."""
from invites.extensions import Model, db

join_page_groups = db.Table(
    "join_page_groups",
    db.Column("page_id", db.ForeignKey("join_pages.id", ondelete="CASCADE"), primary_key=True),
    db.Column("group_id", db.ForeignKey("groups.id", ondelete="CASCADE"), primary_key=True),
    db.Index("ix_join_page_groups_group", "group_id"),
)


class JoinPage(Model):
    """One per organization, made when an owner first opens the panel. Off by default."""

    __tablename__ = "join_pages"

    id = db.Column(db.Integer, primary_key=True)
    org_id = db.Column(db.ForeignKey("organizations.id", ondelete="CASCADE"), nullable=False, unique=True)
    enabled = db.Column(db.Boolean, nullable=False, default=False)
    # The address is /join/<slug>; changing the slug retires the old address.
    slug = db.Column(db.String(60), nullable=False, unique=True)
    # Allowed email domains, one per line ("example.com", or "*.example.com" for its
    # subdomains). Empty: anyone may join.
    allowed_domains = db.Column(db.Text, nullable=False, default="")

    org = db.relationship("Organization")
    groups = db.relationship("Group", secondary=join_page_groups, order_by="Group.name")

    @property
    def domains(self) -> list[str]:
        return [line for line in self.allowed_domains.split("\n") if line]

    def allows(self, email: str) -> bool:
        """True when ``email``'s domain is on the list (or the list is empty)."""
        rules = self.domains
        if not rules:
            return True
        domain = email.rsplit("@", 1)[-1].lower()
        for rule in rules:
            if rule.startswith("*."):
                if domain.endswith(rule[1:]):
                    return True
            elif domain == rule:
                return True
        return False
