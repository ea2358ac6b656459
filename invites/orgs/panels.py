"""The "Organization Settings" panels of F2, in the order users know them."""
from __future__ import annotations

from typing import TYPE_CHECKING

from invites import policy

if TYPE_CHECKING:
    from invites.accounts.models import User
    from invites.orgs.models import Organization

# (label, endpoint or None while the feature is coming, policy action that shows it)
PANELS = [
    ("Members", "orgs.members", "members.view"),
    ("Groups", "groups.index", "groups.manage"),
    ("Invitations", "invitations.panel", "invitations.manage"),
    ("Invite Links", "links.panel", "links.manage"),
    ("Join Request Links", "join_requests.links_panel", "join_requests.manage"),
    ("Join Requests", "join_requests.panel", "join_requests.manage"),
    ("Join Web Page", "join_page.panel", "join_page.manage"),
    ("Import Learners", "imports.panel", "imports.manage"),
    ("Permissions", "orgs.permissions", "settings.edit"),
    ("Activity", "activity.index", "activity.view"),
    ("API Tokens", "api_tokens.panel", "api_tokens.manage"),
    ("Webhooks", "webhooks.panel", "webhooks.manage"),
]


def visible_panels(user: User, org: Organization) -> list[tuple[str, str]]:
    """(label, endpoint) of each panel this user may open in ``org``."""
    return [(label, endpoint) for label, endpoint, action in PANELS if policy.can(user, action, org)]
