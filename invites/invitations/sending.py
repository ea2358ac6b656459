"""Sending invitations (F7, F9): a batch, a resend, a cancel, and the bell of invitees who
have accounts. Import Learners (``imports/``) issues and delivers through here too.

Sending saves every invitation and commits *before* any mail goes out, so a mail server
that refuses, stalls or drops the connection can never lose an invitation: it is kept as
"Not delivered" with the server's reason, ready for "Resend".
"""
from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import inspect
from sqlalchemy.orm import joinedload, selectinload

from invites import policy
from invites.accounts.models import User
from invites.accounts.service import find_user_by_email
from invites.activity.service import record, record_many
from invites.clock import now
from invites.errors import DomainError
from invites.extensions import db
from invites.groups.models import Group, GroupMember
from invites.invitations.addresses import MAX_ADDRESSES, check_request, resolve_entries
from invites.invitations.messages import MAX_MESSAGE, invitation_message
from invites.invitations.models import Invitation, Status
from invites.invitations.queries import lock_invitation, open_invitations_for
from invites.mail import quota
from invites.mail.service import MailDeliveryError, connection
from invites.notifications.service import renotify_invitation
from invites.orgs.models import Membership
from invites.webhooks.outbox import emit, emit_many

if TYPE_CHECKING:
    from invites.orgs.models import Organization


@dataclass
class Outcome:
    """What happened to one address of a batch, in words the inviter reads."""

    address: str
    kind: str  # sent, resent, not_delivered, member, refused, invalid
    detail: str
    invitation: Invitation | None = None
    token: str | None = field(default=None, repr=False)

    LABELS = {
        "sent": "Sent",
        "resent": "Sent again",
        "not_delivered": "Not delivered",
        "member": "Already a member",
        "refused": "Not allowed",
        "invalid": "Not an email address",
    }

    @property
    def label(self) -> str:
        return self.LABELS[self.kind]

    @property
    def ok(self) -> bool:
        return self.kind in ("sent", "resent")


@dataclass
class Issued(Outcome):
    """The outcome of an address that got an invitation: it carries the invitation and the
    link's token (only in memory, until the mail goes out)."""

    invitation: Invitation = field()  # field(): required here, though Outcome has a default
    token: str = field(repr=False)


@dataclass
class Issue:
    """One checked address to invite, or whose ``pending`` invitation to refresh (a resend).
    ``account`` is the user with that address, if any: they also get a bell notification."""

    email: str
    role: str
    groups: list[Group]
    message: str = ""
    pending: Invitation | None = None
    account: User | None = None
    access_until: datetime | None = None  # the end of access of whoever accepts (issue 19)
    lifetime_days: int | None = None  # how long the link lasts; None: the organization's setting


def send_invitations(
    org: Organization, inviter: User, addresses: str | Sequence[str], role: str, groups: Sequence[Group],
    message: str = "", *, commit: Callable[[], None], access_until: datetime | None = None,
    limit: int = MAX_ADDRESSES, lifetime_days: int | None = None,
) -> list[Outcome]:
    """Invite each address (or member username) in ``addresses`` and mail it at once.

    Refuses the whole batch (DomainError) for what :func:`check_request` refuses, for no
    addresses or more than ``limit`` (the form's 10; the JSON API's 500). ``addresses`` is
    the "To" field's text or a list of entries. ``lifetime_days``: how long the links last
    (None: the organization's invitation lifetime).

    Each address then gets its own :class:`Outcome`: invalid, already a member (nothing
    sent), not allowed (a new person, for an inviter without "add new people"), sent, sent
    again (it had a pending invitation), or not delivered.

    ``commit`` is the caller's (``db.session.commit``): called once, after saving and before
    mailing (see the module docstring). The caller commits the delivery states afterwards.
    """
    outcomes = prepare_invitations(org, inviter, addresses, role, groups, message, access_until,
                                   limit=limit, lifetime_days=lifetime_days)
    commit()
    deliver(org, inviter, outcomes)
    return outcomes


def prepare_invitations(
    org: Organization, inviter: User, addresses: str | Sequence[str], role: str, groups: Sequence[Group],
    message: str = "", access_until: datetime | None = None, *, limit: int = MAX_ADDRESSES,
    lifetime_days: int | None = None,
) -> list[Outcome]:
    """Create or refresh the invitations of a batch without mailing; see send_invitations.
    ``access_until``: the end of access of those who accept (None: no end)."""
    check_request(org, inviter, role, groups)
    message = (message or "").strip()[:MAX_MESSAGE]
    entries = resolve_entries(org, addresses, limit)
    emails = [email for _, email, _ in entries if email]
    members, pending, accounts = lookup_addresses(org, emails)
    in_groups = _group_entries(groups, [m.user_id for m in members.values()])
    may_add_new = policy.can(inviter, "people.add_new", org)
    outcomes: list[Outcome | Issue] = []  # an Outcome per entry, or the Issue that will give it one
    for entry, email, error in entries:
        if error or email is None:  # (no address exactly when there is an error)
            outcomes.append(Outcome(entry, "invalid", error or ""))
            continue
        membership = members.get(email)
        invite_role, invite_groups = role, list(groups)
        if membership is not None:
            invite_groups = [g for g in groups if (g.id, membership.user_id) not in in_groups]
            if not invite_groups:
                where = " and of the chosen groups" if groups else ""
                outcomes.append(Outcome(email, "member", f"Already a member of {org.name}{where}; nothing sent."))
                continue
            invite_role = membership.role  # an invitation into groups never changes a role
        elif not may_add_new:
            outcomes.append(Outcome(
                email, "refused",
                f"Not a member of {org.name}. You may only invite existing members into groups.",
            ))
            continue
        outcomes.append(Issue(email, invite_role, invite_groups, message, pending.get(email), accounts.get(email),
                              access_until, lifetime_days))
    issued = iter(issue_invitations(org, inviter, [o for o in outcomes if isinstance(o, Issue)]))
    return [next(issued) if isinstance(o, Issue) else o for o in outcomes]


def issue_invitations(
    org: Organization, inviter: User, issues: Sequence[Issue], import_id: int | None = None
) -> list[Issued]:
    """Create or refresh the invitation of each :class:`Issue` (new token and expiry), all in
    one flush (a single multi-row INSERT on PostgreSQL, not one round trip per address),
    then record each and notify the invitees who have accounts. Returns their
    outcomes (:class:`Outcome`), in order, carrying the tokens. Nothing is mailed here.
    Refuses (QuotaExceeded) a batch past today's caps on invitation mails."""
    quota.charge(org, inviter, len(issues))
    issued = []
    for issue in issues:
        invitation = issue.pending
        kind = "resent" if invitation is not None else "sent"
        if invitation is None:
            invitation = Invitation(org_id=org.id, email=issue.email, org=org)
            db.session.add(invitation)
        invitation.role = issue.role
        invitation.groups = list(issue.groups)
        invitation.message = issue.message
        invitation.inviter = inviter
        invitation.access_until = issue.access_until
        if import_id is not None:
            invitation.import_id = import_id
        lifetime = issue.lifetime_days or org.invitation_lifetime_days
        issued.append((issue, kind, invitation, invitation.renew(lifetime, org.reminder_days_before, org.reminder_halfway)))
    db.session.flush()
    outcomes = []
    for issue, kind, invitation, token in issued:
        _ring_bell_if_verified(issue.account, invitation)
        detail = "Invitation sent." if kind == "sent" else "Had a pending invitation: sent again with a new link."
        outcomes.append(Issued(issue.email, kind, detail, invitation, token))
    record_many(org, inviter, (_activity_line(invitation, kind) for _, kind, invitation, _ in issued))
    for kind in ("sent", "resent"):
        emit_many(org, EVENTS[kind], [invitation for _, made, invitation, _ in issued if made == kind])
    return outcomes


# The webhook event of each kind of issue (invites/webhooks).
EVENTS = {"sent": "invitation.created", "resent": "invitation.resent"}


def _activity_line(invitation: Invitation, kind: str) -> tuple[str, str, Invitation]:
    groups = f" (groups: {', '.join(g.name for g in invitation.groups)})" if invitation.groups else ""
    verb = "invited" if kind == "sent" else "sent again the invitation of"
    return f"invitation.{kind}", f"{verb} {invitation.email} as {invitation.role_label}{groups}", invitation


def _after_issue(org: Organization, actor: User, invitation: Invitation, kind: str, account: User | None) -> None:
    record(org, actor, *_activity_line(invitation, kind))
    emit(org, EVENTS[kind], invitation)
    _ring_bell_if_verified(account, invitation)


def _ring_bell_if_verified(account: User | None, invitation: Invitation) -> None:
    if account is not None and account.is_verified:
        # F15: existing users also find it in the bell, but only once their address is
        # proven: anyone may register with someone else's (security review F1).
        _ring_bell(account, invitation)


def _ring_bell(account: User, invitation: Invitation) -> None:
    who = invitation.inviter.name if invitation.inviter is not None else "Someone"
    renotify_invitation(
        account, invitation,
        f"{who} invited you to join {invitation.org.name} as {invitation.role_label}.",
    )


def announce_pending_invitations(user: User) -> None:
    """Ring ``user``'s bell for the open invitations sent to their address, once the
    address is confirmed: until then they were kept out of sight (security review F1)."""
    for invitation in open_invitations_for(user, limit=100):
        _ring_bell(user, invitation)


def lookup_addresses(
    org: Organization, emails: Iterable[str]
) -> tuple[dict[str, Membership], dict[str, Invitation], dict[str, User]]:
    """For these addresses, in three queries whatever their number: their memberships of
    ``org``, their pending invitations to it, and their accounts (each a dict by email)."""
    emails = list(emails)
    pending = {
        inv.email: inv
        for inv in db.session.scalars(
            db.select(Invitation)
            .options(selectinload(Invitation.groups))
            .where(Invitation.org_id == org.id, Invitation.status == Status.PENDING,
                   Invitation.email.in_(emails))
        )
    } if emails else {}
    accounts = {
        user.email: user for user in db.session.scalars(db.select(User).where(User.email.in_(emails)))
    } if emails else {}
    return _members_by_email(org, emails), pending, accounts


def _members_by_email(org: Organization, emails: list[str]) -> dict[str, Membership]:
    if not emails:
        return {}
    rows = db.session.execute(
        db.select(User.email, Membership)
        .join(Membership, Membership.user_id == User.id)
        .where(Membership.org_id == org.id, User.email.in_(emails))
    )
    return {email: membership for email, membership in rows.all()}


def _group_entries(groups: Sequence[Group], user_ids: list[int]) -> set[tuple[int, int]]:
    if not groups or not user_ids:
        return set()
    rows = db.session.execute(
        db.select(GroupMember.group_id, GroupMember.user_id).where(
            GroupMember.group_id.in_([g.id for g in groups]), GroupMember.user_id.in_(user_ids)
        )
    )
    return {tuple(row) for row in rows.all()}


def deliver(org: Organization, actor: User, outcomes: Sequence[Outcome]) -> Sequence[Outcome]:
    """Mail every outcome that carries a token, over one SMTP connection.

    A refused or failed message marks its invitation Not delivered (with the reason) and
    the rest go on. The caller commits.
    """
    mailing = [(o, o.invitation, o.token) for o in outcomes
               if o.invitation is not None and o.token is not None]  # (a token comes with its invitation)
    # The commit before sending expired them: load them back in two queries, not a few
    # per message.
    # (inspect() reads each one's id without loading it: reading .id would, one by one.)
    states = [inspect(invitation) for _, invitation, _ in mailing]
    ids = [state.identity[0] for state in states if state.identity is not None]
    if ids:
        db.session.scalars(
            db.select(Invitation)
            .options(joinedload(Invitation.inviter), joinedload(Invitation.org), selectinload(Invitation.groups))
            .where(Invitation.id.in_(ids))
            .execution_options(populate_existing=True)
        ).all()
    with connection() as send:
        for outcome, invitation, token in mailing:
            try:
                send(invitation_message(org, invitation, token))
            except MailDeliveryError as error:
                reason = str(error)[:500]
                invitation.delivery_error = reason
                outcome.kind = "not_delivered"
                outcome.detail = f"Saved, but the email was not delivered ({reason}). Use Resend."
                record(org, actor, "invitation.not_delivered",
                       f"could not deliver the invitation to {invitation.email}: {reason}", invitation)
            else:
                invitation.delivery_error = None
                invitation.sent_at = now()
    return outcomes


def resend_invitation(
    org: Organization, actor: User, invitation: Invitation, *, commit: Callable[[], None]
) -> Outcome:
    """A new link and a new expiry (the old link stops working), mailed at once.

    Refuses accepted, declined and cancelled invitations. ``commit`` (the caller's) is
    called before mailing, as in :func:`send_invitations`.
    """
    invitation = lock_invitation(invitation)
    if not invitation.may_resend:
        raise DomainError(f"This invitation was {invitation.status_label.lower()}; it cannot be resent.")
    quota.charge(org, actor, 1)
    token = invitation.renew(org.invitation_lifetime_days, org.reminder_days_before, org.reminder_halfway)
    invitation.inviter = invitation.inviter or actor
    _after_issue(org, actor, invitation, "resent", find_user_by_email(invitation.email))
    commit()
    outcome = Outcome(invitation.email, "resent", "Sent again with a new link.", invitation, token)
    deliver(org, actor, [outcome])
    return outcome


def cancel_invitation(org: Organization, actor: User, invitation: Invitation) -> None:
    """Cancel a pending (or expired) invitation: its link stops working. Refuses others
    (read under the row lock, so an accept at the same moment cannot also succeed)."""
    invitation = lock_invitation(invitation)
    if not invitation.may_cancel:
        raise DomainError(f"This invitation was {invitation.status_label.lower()}; it cannot be cancelled.")
    invitation.status = Status.CANCELLED
    invitation.stop_reminders()
    invitation.responded_at = now()
    record(org, actor, "invitation.cancelled", f"cancelled the invitation of {invitation.email}", invitation)
    emit(org, "invitation.cancelled", invitation)
