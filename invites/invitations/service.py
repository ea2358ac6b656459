"""Email invitations (F7–F10): send, preview, resend, cancel, accept, decline.

Sending saves every invitation and commits *before* any mail goes out, so a mail server
that refuses, stalls or drops the connection can never lose an invitation: it is kept as
"Not delivered" with the server's reason, ready for "Resend".
"""
import re
from datetime import timedelta
from dataclasses import dataclass, field

from flask import current_app
from sqlalchemy import func, inspect
from sqlalchemy.orm import joinedload, selectinload

from invites import policy, tokens
from invites.accounts.models import User
from invites.accounts.service import find_user_by_email, normalize_email
from invites.activity.service import record
from invites.clock import now
from invites.errors import DomainError
from invites.extensions import db
from invites.groups.models import GroupMember
from invites.invitations.models import Invitation, Status
from invites.mail import quota
from invites.mail.service import MailDeliveryError, build_message, connection, external_url
from invites.notifications.service import mark_invitation_read, notify, renotify_invitation
from invites.orgs.admission import admit
from invites.orgs.models import Membership, Role
from invites.pagination import paginate

MAX_ADDRESSES = 10
MAX_MESSAGE = 2000
_SEPARATORS = re.compile(r"[,;\r\n]+")
_ANGLE = re.compile(r"<([^<>]*)>")


class InvitationUnavailable(DomainError):
    """The invitation cannot be answered; ``reason`` picks the page that explains why."""

    MESSAGES = {
        "unknown": "This invitation link is not valid.",
        "expired": "This invitation has expired.",
        "cancelled": "This invitation was cancelled.",
        "used": "This invitation has already been accepted.",
        "declined": "This invitation was declined.",
        "wrong_account": "This invitation was sent to another email address.",
        "unverified": "Confirm your email address before accepting from here.",
    }

    def __init__(self, reason):
        super().__init__(self.MESSAGES[reason])
        self.reason = reason


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
    def label(self):
        return self.LABELS[self.kind]

    @property
    def ok(self):
        return self.kind in ("sent", "resent")


# --- Reading the "To" field ------------------------------------------------------------

def split_entries(text):
    """The raw entries of the addresses field, in order.

    Separators are commas, semicolons, spaces and newlines; ``Name <addr>`` gives ``addr``
    (words before ``<`` that contain ``@`` are addresses too, the others the name).
    """
    tokens = []
    for chunk in _SEPARATORS.split(text or ""):
        while chunk:
            match = _ANGLE.search(chunk)
            if match is None:
                tokens.extend(chunk.split())
                break
            tokens.extend(word for word in chunk[: match.start()].split() if "@" in word)
            tokens.append(match.group(1).strip())
            chunk = chunk[match.end():]
    return [token for token in tokens if token]


def _resolve_entries(org, text):
    """[(entry, email or None, error or None)] with duplicates folded, in typed order.

    An entry without ``@`` (or starting with it) is a member's username; everything else
    is validated as an address with email-validator (no DNS lookup).
    """
    raw = split_entries(text)
    usernames = {entry.lstrip("@").lower() for entry in raw if entry.startswith("@") or "@" not in entry}
    by_username = {}
    if usernames:
        rows = db.session.execute(
            db.select(User.username, User.email)
            .join(Membership, Membership.user_id == User.id)
            .where(Membership.org_id == org.id, User.username.in_(usernames))
        )
        by_username = dict(rows.all())
    resolved, seen = [], set()
    for entry in raw:
        if entry.startswith("@") or "@" not in entry:
            email = by_username.get(entry.lstrip("@").lower())
            error = None if email else f"{entry} is neither an email address nor a member's username."
        else:
            try:
                email, error = normalize_email(entry), None
            except DomainError as problem:
                email, error = None, problem.message
        key = email or entry.lower()
        if key in seen:
            continue
        seen.add(key)
        resolved.append((entry, email, error))
    if not resolved:
        raise DomainError("Enter at least one email address or member.", "addresses")
    if len(resolved) > MAX_ADDRESSES:
        raise DomainError(
            f"Invite at most {MAX_ADDRESSES} addresses at a time ({len(resolved)} given).",
            "addresses",
        )
    return resolved


def check_request(org, inviter, role, groups):
    """Refuse what no address of a batch could get (DomainError on the form field):
    a role above the inviter's, a group they may not invite into, no group when the
    organization requires one, or an inviter who may not invite at all."""
    if not policy.can(inviter, "people.invite", org):
        raise DomainError("You may not invite people to this organization.")
    quota.check_may_send(inviter)
    if role not in policy.assignable_roles(inviter, org):
        raise DomainError("Choose a role no higher than your own.", "role")
    for group in groups:
        if group.org_id != org.id or not policy.can(inviter, "groups.invite", org, group):
            raise DomainError(f"You may not invite people into {group.name}.", "groups")
    if org.require_group_on_invite and not groups:
        raise DomainError("Choose at least one group: this organization requires it.", "groups")


# --- Sending ---------------------------------------------------------------------------

def send_invitations(org, inviter, addresses, role, groups, message=""):
    """Invite each address (or member username) in ``addresses`` and mail it at once.

    Refuses the whole batch (DomainError) for what :func:`check_request` refuses, for no
    addresses or more than 10. Each address then gets its own :class:`Outcome`: invalid,
    already a member (nothing sent), not allowed (a new person, for an inviter without
    "add new people"), sent, sent again (it had a pending invitation), or not delivered.

    Commits once, after saving and before mailing (see the module docstring); the caller
    commits the delivery states afterwards.
    """
    outcomes = prepare_invitations(org, inviter, addresses, role, groups, message)
    db.session.commit()
    deliver(org, inviter, outcomes)
    return outcomes


def prepare_invitations(org, inviter, addresses, role, groups, message=""):
    """Create or refresh the invitations of a batch without mailing; see send_invitations."""
    check_request(org, inviter, role, groups)
    message = (message or "").strip()[:MAX_MESSAGE]
    entries = _resolve_entries(org, addresses)
    emails = [email for _, email, _ in entries if email]
    members, pending, accounts = lookup_addresses(org, emails)
    in_groups = _group_entries(groups, [m.user_id for m in members.values()])
    may_add_new = policy.can(inviter, "people.add_new", org)
    outcomes = []  # an Outcome per entry, or the Issue that will give it one
    for entry, email, error in entries:
        if error:
            outcomes.append(Outcome(entry, "invalid", error))
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
        outcomes.append(Issue(email, invite_role, invite_groups, message, pending.get(email), accounts.get(email)))
    issued = iter(issue_invitations(org, inviter, [o for o in outcomes if isinstance(o, Issue)]))
    return [next(issued) if isinstance(o, Issue) else o for o in outcomes]


@dataclass
class Issue:
    """One checked address to invite, or whose ``pending`` invitation to refresh (a resend).
    ``account`` is the user with that address, if any: they also get a bell notification."""

    email: str
    role: str
    groups: list
    message: str = ""
    pending: Invitation | None = None
    account: User | None = None


def issue_invitations(org, inviter, issues, import_id=None):
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
        if import_id is not None:
            invitation.import_id = import_id
        issued.append((issue, kind, invitation, invitation.issue_token(org.invitation_lifetime_days)))
    db.session.flush()
    outcomes = []
    for issue, kind, invitation, token in issued:
        _after_issue(org, inviter, invitation, kind, issue.account)
        detail = "Invitation sent." if kind == "sent" else "Had a pending invitation: sent again with a new link."
        outcomes.append(Outcome(issue.email, kind, detail, invitation, token))
    return outcomes


def _after_issue(org, actor, invitation, kind, account):
    groups = f" (groups: {', '.join(g.name for g in invitation.groups)})" if invitation.groups else ""
    verb = "invited" if kind == "sent" else "sent again the invitation of"
    record(org, actor, f"invitation.{kind}",
           f"{verb} {invitation.email} as {invitation.role_label}{groups}", invitation)
    if account is not None and account.is_verified:
        # F15: existing users also find it in the bell, but only once their address is
        # proven: anyone may register with someone else's (security review F1).
        _ring_bell(account, invitation)


def _ring_bell(account, invitation):
    who = invitation.inviter.name if invitation.inviter is not None else "Someone"
    renotify_invitation(
        account, invitation,
        f"{who} invited you to join {invitation.org.name} as {invitation.role_label}.",
    )


def announce_pending_invitations(user):
    """Ring ``user``'s bell for the open invitations sent to their address, once the
    address is confirmed: until then they were kept out of sight (security review F1)."""
    for invitation in open_invitations_for(user, limit=100):
        _ring_bell(user, invitation)


def confirm_address(user):
    """``user`` proved their address (a confirmation link, or an invitation's): mark the
    account verified and bring the invitations sent to it into view."""
    if not user.is_verified:
        user.mark_verified()
        db.session.flush()
        announce_pending_invitations(user)


def lookup_addresses(org, emails):
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


def _members_by_email(org, emails):
    if not emails:
        return {}
    rows = db.session.execute(
        db.select(User.email, Membership)
        .join(Membership, Membership.user_id == User.id)
        .where(Membership.org_id == org.id, User.email.in_(emails))
    )
    return {email: membership for email, membership in rows.all()}


def _group_entries(groups, user_ids):
    if not groups or not user_ids:
        return set()
    rows = db.session.execute(
        db.select(GroupMember.group_id, GroupMember.user_id).where(
            GroupMember.group_id.in_([g.id for g in groups]), GroupMember.user_id.in_(user_ids)
        )
    )
    return {tuple(row) for row in rows.all()}


def deliver(org, actor, outcomes):
    """Mail every outcome that carries a token, over one SMTP connection.

    A refused or failed message marks its invitation Not delivered (with the reason) and
    the rest go on. The caller commits.
    """
    # The commit before sending expired them: load them back in two queries, not a few
    # per message.
    # (inspect() reads each one's id without loading it: reading .id would, one by one.)
    ids = [inspect(o.invitation).identity[0] for o in outcomes if o.token is not None]
    if ids:
        db.session.scalars(
            db.select(Invitation)
            .options(joinedload(Invitation.inviter), joinedload(Invitation.org), selectinload(Invitation.groups))
            .where(Invitation.id.in_(ids))
            .execution_options(populate_existing=True)
        ).all()
    with connection() as send:
        for outcome in outcomes:
            if outcome.token is None:
                continue
            invitation = outcome.invitation
            try:
                send(invitation_message(org, invitation, outcome.token))
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


def invitation_subject(org, inviter):
    """Always the platform's words around the inviter's and organization's names: a
    subject is never free text (security review F4)."""
    return f"{inviter.name} invited you to join {org.name}"[:200]  # folded onto one line


def invitation_message(org, invitation, token):
    """The email of one invitation, exactly as the preview shows it."""
    inviter = invitation.inviter
    return build_message(
        invitation.email,
        invitation_subject(org, inviter),
        "invitation",
        org=org,
        inviter=inviter,
        role_label=invitation.role_label,
        groups=[g.name for g in invitation.groups],
        message=invitation.message,
        expires_at=invitation.expires_at,
        link=external_url("invitations.respond", token=token),
    )


def preview_message(org, inviter, addresses, role, groups, message=""):
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


def update_invitation_email(org, actor, intro):
    """Set the organization's onboarding paragraph. Returns True when something changed."""
    intro = (intro or "").strip()[:MAX_MESSAGE]
    if intro == org.invitation_intro:
        return False
    org.invitation_intro = intro
    record(org, actor, "settings.invitation_email", "changed the invitation email")
    return True


# --- Managing --------------------------------------------------------------------------

def resend_invitation(org, actor, invitation):
    """A new link and a new expiry (the old link stops working), mailed at once.

    Refuses accepted, declined and cancelled invitations. Commits before mailing.
    """
    invitation = _lock(invitation)
    if not invitation.may_resend:
        raise DomainError(f"This invitation was {invitation.status_label.lower()}; it cannot be resent.")
    quota.charge(org, actor, 1)
    token = invitation.issue_token(org.invitation_lifetime_days)
    invitation.inviter = invitation.inviter or actor
    _after_issue(org, actor, invitation, "resent", find_user_by_email(invitation.email))
    db.session.commit()
    outcome = Outcome(invitation.email, "resent", "Sent again with a new link.", invitation, token)
    deliver(org, actor, [outcome])
    return outcome


def cancel_invitation(org, actor, invitation):
    """Cancel a pending (or expired) invitation: its link stops working. Refuses others
    (read under the row lock, so an accept at the same moment cannot also succeed)."""
    invitation = _lock(invitation)
    if not invitation.may_cancel:
        raise DomainError(f"This invitation was {invitation.status_label.lower()}; it cannot be cancelled.")
    invitation.status = Status.CANCELLED
    invitation.responded_at = now()
    record(org, actor, "invitation.cancelled", f"cancelled the invitation of {invitation.email}", invitation)


# --- Answering -------------------------------------------------------------------------

def find_by_token(token):
    """The invitation this link's token belongs to, or None."""
    return tokens.find_by_token(
        Invitation,
        token,
        joinedload(Invitation.org), joinedload(Invitation.inviter), selectinload(Invitation.groups),
    )


def check_answerable(invitation, user=None):
    """Raise InvitationUnavailable unless ``user`` (or anyone, if None) may answer it."""
    if invitation is None:
        raise InvitationUnavailable("unknown")
    if invitation.status == Status.CANCELLED:
        raise InvitationUnavailable("cancelled")
    if invitation.status == Status.ACCEPTED:
        raise InvitationUnavailable("used")
    if invitation.status == Status.DECLINED:
        raise InvitationUnavailable("declined")
    if invitation.is_expired():
        raise InvitationUnavailable("expired")
    if user is not None and user.email != invitation.email:
        raise InvitationUnavailable("wrong_account")


def _lock(invitation):
    """Re-read the row under a lock so two answers at once are applied one after the other."""
    return db.session.scalar(
        db.select(Invitation)
        .where(Invitation.id == invitation.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )


def check_may_answer(invitation, user, by_link):
    """What accepting and declining both check: the invitation is open and sent to
    ``user``'s address, and that address is proven. From the bell or the dashboard
    (``by_link`` False) the account must be verified; following the emailed link proves
    the mailbox, so it verifies the account. Raises InvitationUnavailable."""
    check_answerable(invitation, user)
    if user is None:
        return
    if by_link:
        confirm_address(user)
    elif not user.is_verified:
        raise InvitationUnavailable("unverified")


def accept_invitation(invitation, user, by_link=False):
    """Grant the invitation's role and groups to ``user``, in the caller's transaction.

    Refuses (InvitationUnavailable) what :func:`check_may_answer` refuses, except that
    accepting twice by the same account is harmless and returns the membership.
    Returns the membership.
    """
    invitation = _lock(invitation)
    org = invitation.org
    if invitation.status == Status.ACCEPTED and invitation.accepted_user_id == user.id:
        return db.session.scalar(db.select(Membership).filter_by(org_id=org.id, user_id=user.id))
    check_may_answer(invitation, user, by_link)
    invitation.status = Status.ACCEPTED
    invitation.accepted_user_id = user.id
    invitation.responded_at = now()
    groups = f" and joined {', '.join(g.name for g in invitation.groups)}" if invitation.groups else ""
    admission = admit(
        org, user, invitation.role, invitation.groups, verb="invitation.accepted", target=invitation,
        describe=lambda admitted: f"accepted the invitation sent to {invitation.email} as "
                                  f"{admitted.membership.role_label}{groups}",
    )
    _tell_inviter_in_app(invitation, f"{user.name} accepted your invitation to join {org.name}.")
    mark_invitation_read(user, invitation)
    db.session.flush()
    return admission.membership


def decline_invitation(invitation, user=None, by_link=False):
    """Decline: the link stops working and the inviter is told. ``user`` is None for
    someone who declines from the emailed link without an account (the link is the proof).
    Refuses exactly what accepting refuses (:func:`check_may_answer`)."""
    if user is None and not by_link:
        raise InvitationUnavailable("unverified")
    invitation = _lock(invitation)
    check_may_answer(invitation, user, by_link)
    invitation.status = Status.DECLINED
    invitation.responded_at = now()
    who = user.name if user is not None else invitation.email
    record(invitation.org, user, "invitation.declined",
           f"declined the invitation sent to {invitation.email}" if user else
           f"{invitation.email} declined the invitation (from the emailed link)", invitation)
    _tell_inviter_in_app(invitation, f"{who} declined your invitation to join {invitation.org.name}.")
    if user is not None:
        mark_invitation_read(user, invitation)


def _tell_inviter_in_app(invitation, text):
    if invitation.inviter is not None:
        notify(invitation.inviter, f"invitation_{invitation.status}", text,
               org=invitation.org, invitation=invitation)


def tell_inviter_by_mail(invitation):
    """Email the inviter that the invitation was accepted or declined (after the commit).

    A failure is logged, not raised: the answer itself is already saved.
    """
    inviter = invitation.inviter
    if inviter is None:
        return False
    answer = "accepted" if invitation.status == Status.ACCEPTED else "declined"
    who = invitation.accepted_user.name if invitation.accepted_user is not None else invitation.email
    try:
        with connection() as send:
            send(build_message(
                inviter.email,
                f"{who} {answer} your invitation to {invitation.org.name}",
                "invitation_answered",
                invitation=invitation, org=invitation.org, inviter=inviter, who=who, answer=answer,
                link=external_url("invitations.panel", slug=invitation.org.slug),
            ))
    except MailDeliveryError as error:
        current_app.logger.warning("could not tell %s about invitation %s: %s",
                                   inviter.email, invitation.id, error)
        return False
    return True


# --- Reading ---------------------------------------------------------------------------

FILTERS = (Status.PENDING, Status.NOT_DELIVERED, Status.EXPIRED, Status.ACCEPTED,
           Status.DECLINED, Status.CANCELLED)


def _status_clause(status, at):
    pending = Invitation.status == Status.PENDING
    if status == Status.PENDING:
        return pending & (Invitation.expires_at > at) & Invitation.delivery_error.is_(None)
    if status == Status.NOT_DELIVERED:
        return pending & (Invitation.expires_at > at) & Invitation.delivery_error.is_not(None)
    if status == Status.EXPIRED:
        return pending & (Invitation.expires_at <= at)
    return Invitation.status == status


def page_of_invitations(org, page, per_page, status=None, search=None):
    """Newest first, filtered by shown status and an email fragment; a fixed number of
    queries (count, rows with inviter and acceptor joined, groups in one IN query)."""
    query = (
        db.select(Invitation)
        .options(
            joinedload(Invitation.inviter),
            joinedload(Invitation.accepted_user),
            selectinload(Invitation.groups),
        )
        .where(Invitation.org_id == org.id)
        .order_by(Invitation.created_at.desc(), Invitation.id.desc())
    )
    if status in FILTERS:
        query = query.where(_status_clause(status, now()))
    if search:
        query = query.where(Invitation.email.contains(search.strip().lower(), autoescape=True))
    return paginate(query, page, per_page)


def panel_version(org):
    """Changes whenever any invitation of ``org`` changes (invitations are never deleted,
    and a new one has the newest ``updated_at``): the panel polls with it. One lookup on
    the (org_id, updated_at) index."""
    latest = db.session.scalar(
        db.select(func.max(Invitation.updated_at)).where(Invitation.org_id == org.id)
    )
    return latest.isoformat() if latest else "-"


def open_invitations_for(user, limit=20):
    """Pending, unexpired invitations sent to ``user``'s address, across organizations;
    none until the address is confirmed (security review F1)."""
    if not user.is_verified:
        return []
    return db.session.scalars(
        db.select(Invitation)
        .options(joinedload(Invitation.org), joinedload(Invitation.inviter), selectinload(Invitation.groups))
        .where(Invitation.email == user.email, Invitation.status == Status.PENDING,
               Invitation.expires_at > now())
        .order_by(Invitation.created_at.desc())
        .limit(limit)
    ).all()


def search_members(org, viewer, text, limit=8):
    """Members of ``org`` matching a username prefix or a name fragment, for the "To"
    autocomplete. Only this organization's members; staff may also match by email."""
    text = (text or "").strip().lstrip("@").lower()[:100]
    if len(text) < 1:
        return []
    pattern = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    clauses = [User.username.like(f"{pattern}%", escape="\\"),
               func.lower(User.name).like(f"%{pattern}%", escape="\\")]
    if policy.role_of(viewer, org) in policy.STAFF:
        clauses.append(User.email.like(f"{pattern}%", escape="\\"))
    return db.session.execute(
        db.select(User, Membership.role)
        .join(Membership, Membership.user_id == User.id)
        .where(Membership.org_id == org.id, User.id != viewer.id, db.or_(*clauses))
        .order_by(User.name)
        .limit(limit)
    ).all()
