"""Editing a pending invitation (issue 18): its role, groups and last day, within what the
editor may grant. The emailed link reads the invitation when it is answered, so the mail
already sent and the invitee's page show the new terms; nothing is mailed again."""
from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING

from invites import policy
from invites.activity.service import record
from invites.clock import now
from invites.errors import DomainError
from invites.extensions import db
from invites.invitations.addresses import check_request
from invites.invitations.models import Invitation, next_reminder
from invites.invitations.queries import lock_invitation
from invites.webhooks.outbox import emit

if TYPE_CHECKING:
    from invites.accounts.models import User
    from invites.groups.models import Group
    from invites.orgs.models import Organization

# The furthest an edited invitation may run: the longest lifetime an organization may set.
MAX_DAYS_AHEAD = 365


def last_day(invitation: Invitation) -> date:
    """The last day (UTC) the invitation can be answered: what the edit form shows. An
    invitation expiring at midnight works until the end of the day before."""
    return (invitation.expires_at - timedelta(microseconds=1)).date()


def editing_refusal(invitation: Invitation, at: datetime | None = None) -> str | None:
    """Why ``invitation`` cannot be edited (answered, cancelled or expired), or None."""
    if invitation.is_open(at):
        return None
    if invitation.is_expired(at):
        return "This invitation has expired; it can no longer be edited. Resend it to renew it."
    return f"This invitation was {invitation.status_label.lower()}; it can no longer be edited."


def _check_last_day(expires_on: date, at: datetime) -> None:
    if expires_on < at.date():
        raise DomainError("Pick a date that is not in the past.", "expires_on")
    if expires_on > (at + timedelta(days=MAX_DAYS_AHEAD)).date():
        raise DomainError(f"Pick a date at most {MAX_DAYS_AHEAD} days ahead.", "expires_on")


def _day(value: date) -> str:
    return f"{value.day} {value.strftime('%b')}"


def _names(groups: Sequence[Group]) -> str:
    return ", ".join(group.name for group in groups) or "—"


def edit_invitation(
    org: Organization, actor: User, invitation: Invitation, role: str, groups: Sequence[Group],
    expires_on: date | None,
) -> list[str]:
    """Give a pending invitation ``role``, ``groups`` and ``expires_on`` as its last day
    (UTC; None or its current last day keeps the exact expiry), and record what changed.
    Returns the changes ("role Member → Manager"), none when nothing did.

    Refuses (DomainError, on the form's field where there is one) an invitation that was
    accepted, declined or cancelled or has expired (read under the row lock, so an answer at
    the same moment wins cleanly); what sending refuses (:func:`check_request`: a role above
    the editor's, a group they may not invite into, no group where the organization requires
    one); terms the editor could then no longer manage (a group's manager leaving no group);
    a last day in the past or more than a year ahead. A new expiry reschedules the reminders.
    """
    invitation = lock_invitation(invitation)
    at = now()
    refusal = editing_refusal(invitation, at)
    if refusal is not None:
        raise DomainError(refusal, code="not_editable")
    check_request(org, actor, role, groups)
    changes = []
    if role != invitation.role:
        before = invitation.role_label
        invitation.role = role
        changes.append(f"role {before} → {invitation.role_label}")
    new_groups = sorted(set(groups), key=lambda group: group.name)
    if {group.id for group in new_groups} != {group.id for group in invitation.groups}:
        changes.append(f"groups {_names(invitation.groups)} → {_names(new_groups)}")
        invitation.groups = list(new_groups)
    if expires_on is not None and expires_on != last_day(invitation):
        _check_last_day(expires_on, at)
        changes.append(f"expires {_day(last_day(invitation))} → {_day(expires_on)}")
        invitation.expires_at = datetime.combine(expires_on + timedelta(days=1), time.min)
        invitation.remind_at = next_reminder(
            invitation.sent_at or invitation.created_at, invitation.expires_at,
            org.reminder_days_before, org.reminder_halfway,
            after=max(at, invitation.reminded_at or at),
        )
    if not changes:
        return []
    if not policy.can(actor, "invitations.manage", org, invitation):
        raise DomainError("Keep at least one of the groups you manage: without one, only the "
                          "owners and managers can manage this invitation.", "groups")
    invitation.updated_at = at  # a change of groups alone must reach the panel's poll too
    record(org, actor, "invitation.edited",
           f"changed the invitation of {invitation.email}: {'; '.join(changes)}", invitation)
    db.session.flush()  # the event shows the new groups
    emit(org, "invitation.edited", invitation, changes=changes)
    return changes
