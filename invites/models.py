"""Every model, imported in one place so Alembic and the app see the whole schema."""
from invites.accounts.models import User, UserSession  # noqa: F401
from invites.api.models import ApiToken  # noqa: F401
from invites.activity.models import Activity  # noqa: F401
from invites.webhooks.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint, WebhookEvent  # noqa: F401
from invites.groups.models import GroupMember, Group, JoinMethod  # noqa: F401
from invites.imports.models import Import, ImportRow  # noqa: F401
from invites.invitations.models import Invitation, invitation_groups  # noqa: F401
from invites.join_page.models import JoinPage, join_page_groups  # noqa: F401
from invites.join_requests.models import JoinLink, JoinRequest  # noqa: F401
from invites.links.models import InviteLink, invite_link_groups  # noqa: F401
from invites.mail.models import MailQuotaUsage, OutboxMessage  # noqa: F401
from invites.notifications.models import Notification  # noqa: F401
from invites.orgs.models import Membership, Organization, Plan, Role  # noqa: F401
