"""The invitation email: its subject and body, the preview before sending, and the
organization's own paragraph in it."""
from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import TYPE_CHECKING

from invites.accounts.service import normalize_email
from invites.activity.service import record
from invites.clock import now
from invites.errors import DomainError
from invites.invitations.addresses import split_entries
from invites.invitations.models import Invitation
from invites.mail.service import Message, build_message, external_url
from invites.orgs.models import Role

if TYPE_CHECKING:
    from invites.accounts.models import User
    from invites.groups.models import Group
    from invites.orgs.models import Organization

MAX_MESSAGE = 2000
ABOUT_LENGTH = 300


def invitation_subject(org: Organization, inviter: User) -> str:
    """Always the platform's words around the inviter's and organization's names: a
    subject is never free text (security review F4)."""
    return f"{inviter.name} invited you to join {org.name}"[:200]  # folded onto one line


def one_line(text: str | None, limit: int = ABOUT_LENGTH) -> str:
    """A description as one line for the invitation email (seed 004: what the
    organization or group is): its first paragraph, spaces folded, cut at ``limit``."""
    first = (text or "").strip().split("\n\n", 1)[0]
    line = " ".join(first.split())
    return line if len(line) <= limit else line[: limit - 1].rstrip() + "…"


def invitation_message(
    org: Organization, invitation: Invitation, token: str, reminder_until: str | None = None
) -> Message:
    """The email of one invitation, exactly as the preview shows it. ``reminder_until``
    ("in 2 days") makes it the reminder before expiry: the same terms, said again."""
    inviter = invitation.inviter
    subject = invitation_subject(org, inviter)
    return build_message(
        invitation.email,
        f"Reminder: {subject}"[:200] if reminder_until else subject,
        "invitation",
        reminder_until=reminder_until,
        org=org,
        inviter=inviter,
        role_label=invitation.role_label,
        about_org=one_line(org.description),
        groups=[(g.name, one_line(g.description)) for g in invitation.groups],
        message=invitation.message,
        expires_at=invitation.expires_at,
        link=external_url("invitations.respond", token=token),
    )


def preview_message(
    org: Organization, inviter: User, addresses: str, role: str, groups: Sequence[Group], message: str = ""
) -> Message:
    """The message the first address would receive, with a sample link (nothing saved)."""
    try:
        entries = split_entries(addresses)
        first = normalize_email(entries[0]) if entries and "@" in entries[0] else None
    except DomainError:
        first = None
    sample = Invitation(
        org_id=org.id, email=first or "invitee@example.com", role=role if role in Role.ALL else Role.MEMBER,
        message=(message or "").strip()[:MAX_MESSAGE],
        expires_at=now() + timedelta(days=org.invitation_lifetime_days),
    )
    sample.inviter = inviter
    sample.groups = list(groups)
    return invitation_message(org, sample, "your-personal-link")


def update_invitation_email(org: Organization, actor: User, intro: str | None) -> bool:
    """Set the organization's onboarding paragraph. Returns True when something changed."""
    intro = (intro or "").strip()[:MAX_MESSAGE]
    if intro == org.invitation_intro:
        return False
    org.invitation_intro = intro
    record(org, actor, "settings.invitation_email", "changed the invitation email")
    return True
