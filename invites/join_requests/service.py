"""Join request links and join requests (F12): people ask, owners and managers decide.

New requests notify the people the link names, in the bell and by email, at once; the
requester hears about an accept or a reject the same two ways. Mail goes out after the
commit and a failure is logged, never undoing the decision.
"""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from flask import current_app
from flask_sqlalchemy.pagination import Pagination
from sqlalchemy import Select, func
from sqlalchemy.orm import joinedload, selectinload

from invites import policy, tokens
from invites.accounts.models import User
from invites.activity.service import record
from invites.clock import now
from invites.errors import DomainError, Refusal
from invites.extensions import db
from invites.invitations.models import Invitation, Status
from invites.join_requests.models import LINK_ROLES, JoinLink, JoinRequest, Notify, RequestStatus
from invites.mail.service import MailDeliveryError, build_message, connection, external_url
from invites.notifications.service import notify
from invites.orgs.admission import admit
from invites.orgs.models import Membership, Organization, Role
from invites.pagination import paginate
from invites.webhooks.outbox import emit

if TYPE_CHECKING:
    from invites.groups.models import Group
    from invites.links.models import InviteLink

MAX_MESSAGE = 2000


class RequestRefused(Refusal):
    """Why this person cannot request through this link now; ``reason`` picks the page."""

    MESSAGES = {
        "unknown": "This join request link is not valid.",
        "inactive": "This link is not accepting requests.",
        "member": "You are already a member.",
        "pending": "Your request is waiting for an answer.",
        "rejected": "Your earlier request was not accepted.",
    }


# --- Links -----------------------------------------------------------------------------

def staff_of(org: Organization) -> Sequence[User]:
    """The organization's owners and managers, by name: who may be notified."""
    return db.session.scalars(
        db.select(User)
        .join(Membership, Membership.user_id == User.id)
        .where(Membership.org_id == org.id, Membership.role.in_([Role.OWNER, Role.MANAGER]))
        .order_by(User.name)
    ).all()


def _check_settings(
    org: Organization, description: str | None, role: str, groups: Sequence[Group],
    notify_choice: str, recipients: Sequence[User],
) -> tuple[str, list[User]]:
    description = " ".join((description or "").split())
    if not description:
        raise DomainError("Describe the link (people who follow it see this).", "description")
    if len(description) > 200:
        raise DomainError("Use at most 200 characters.", "description")
    if role not in LINK_ROLES:
        raise DomainError("Choose Member or Collaborator.", "role")
    if any(g.org_id != org.id for g in groups):
        raise DomainError("Choose groups of this organization.", "groups")
    if notify_choice not in Notify.LABELS:
        raise DomainError("Choose who is notified.", "notify")
    staff_ids = {u.id for u in staff_of(org)}
    if notify_choice == Notify.SPECIFIC:
        if not recipients:
            raise DomainError("Pick at least one owner or manager to notify.", "recipients")
        if any(u.id not in staff_ids for u in recipients):
            raise DomainError("Only owners and managers can be notified.", "recipients")
    else:
        recipients = []
    return description, list(recipients)


def create_join_link(
    org: Organization, actor: User, description: str | None, role: str, groups: Sequence[Group],
    notify_choice: str, recipients: Sequence[User] = (),
) -> tuple[JoinLink, str]:
    """Create a link; returns ``(link, token)`` (the token is stored hashed and encrypted).

    Refuses an empty description, a role other than Member or Collaborator, groups of
    another organization, and "Specific" recipients who are not owners or managers.
    """
    description, recipients = _check_settings(org, description, role, groups, notify_choice, recipients)
    link = JoinLink(org_id=org.id, org=org, description=description, role=role,
                    notify=notify_choice, created_by=actor, active=True)
    link.groups = list(groups)
    link.recipients = recipients
    token = link.issue_token()
    db.session.add(link)
    db.session.flush()
    record(org, actor, "join_link.created", f"created the join request link “{description}”", link)
    return link, token


def update_join_link(
    org: Organization, actor: User, link: JoinLink, description: str | None, role: str,
    groups: Sequence[Group], notify_choice: str, recipients: Sequence[User] = (), active: bool = True,
) -> list[tuple[str, str]]:
    """Change a link's settings and its "Active" switch. Refuses what creating refuses.
    Returns the list of changes recorded (empty when nothing changed)."""
    description, recipients = _check_settings(org, description, role, groups, notify_choice, recipients)
    before = (link.description, link.role, [g.id for g in link.groups], link.notify,
              [u.id for u in link.recipients])
    link.description, link.role, link.notify = description, role, notify_choice
    link.groups, link.recipients = list(groups), recipients
    changes = []
    if before != (link.description, link.role, [g.id for g in link.groups], link.notify,
                  [u.id for u in link.recipients]):
        changes.append(("join_link.edited", f"edited the join request link “{description}”"))
    if bool(active) != link.active:
        link.active = bool(active)
        verb = "activated" if link.active else "deactivated"
        changes.append((f"join_link.{verb}", f"{verb} the join request link “{description}”"))
    for verb, summary in changes:
        record(org, actor, verb, summary, link)
    return changes


def address_of(link: JoinLink) -> str | None:
    """The link's URL (on PUBLIC_URL) when its token can be read back, else None; shown
    only to those who manage join request links (Mattermost CVE-2026-2463)."""
    token = link.shareable_token()
    return external_url("join_requests.follow", token=token) if token else None


def find_join_link(token: str | None) -> JoinLink | None:
    return tokens.find_by_token(JoinLink, token, joinedload(JoinLink.org), selectinload(JoinLink.groups))


def page_of_join_links(org: Organization, page: int, per_page: int) -> Pagination:
    query = (
        db.select(JoinLink)
        .options(joinedload(JoinLink.created_by), selectinload(JoinLink.groups),
                 selectinload(JoinLink.recipients))
        .where(JoinLink.org_id == org.id)
        .order_by(JoinLink.created_at.desc(), JoinLink.id.desc())
    )
    return paginate(query, page, per_page)


# --- Requesting ------------------------------------------------------------------------

def check_may_request(link: JoinLink | None, user: User) -> None:
    """Raise RequestRefused unless ``user`` may request through ``link`` now: an unknown
    or inactive link, then what :func:`check_may_ask` refuses."""
    if link is None:
        raise RequestRefused("unknown")
    if not link.active:
        raise RequestRefused("inactive")
    check_may_ask(link.org, user)


def check_may_ask(org: Organization, user: User) -> None:
    """Raise RequestRefused unless ``user`` may ask to join ``org`` now, by any way: a
    member, a pending request, or a rejected one (through any link of the organization,
    or none) each refuse. A dismissed request is deleted, so it refuses nothing."""
    if policy.role_of(user, org) is not None:
        raise RequestRefused("member")
    statuses = set(db.session.scalars(
        db.select(JoinRequest.status).filter_by(org_id=org.id, user_id=user.id)
    ))
    if RequestStatus.REJECTED in statuses:
        raise RequestRefused("rejected")
    if RequestStatus.PENDING in statuses:
        raise RequestRefused("pending")


def request_to_join(link: JoinLink, user: User, message: str | None = "") -> JoinRequest:
    """Record a request and notify the people the link names (in the bell); the caller
    commits, then calls :func:`mail_new_request`. Refuses what check_may_request does.
    An account whose address is not confirmed may ask, but staff are told so: anyone can
    register with an address they do not own (security review F6)."""
    check_may_request(link, user)
    return _make_request(link.org, user, link, message, f"through “{link.description}”")


def ask_again(org: Organization, user: User, dead_way: str) -> JoinRequest:
    """A request to join ``org`` from a dead way in (issue 18: "Ask for a new invitation"
    on an expired or cancelled invitation, an expired or used-up invite link), described
    by ``dead_way`` ("an expired invitation"). It has no join request link: accepting it
    grants Member and no groups, as for a request whose link was deleted. The organization
    names nobody for these, so every owner and manager hears of it (:func:`recipients_for`).
    Refuses what :func:`check_may_ask` does; the caller commits, then calls
    :func:`mail_new_request`."""
    check_may_ask(org, user)
    return _make_request(org, user, None, "", f"from {dead_way}")


def wait_for_seat(
    org: Organization, user: User, *, invitation: Invitation | None = None, invite_link: InviteLink | None = None,
) -> JoinRequest:
    """Put ``user`` on ``org``'s waiting list (issue 19): the invitation they accepted, or
    the invite link they used, found every seat taken. A join request that remembers the
    way in, so accepting it grants that way's role, groups and end of access; every owner
    and manager hears of it. A pending request of theirs is reused (one per person). The
    caller has rolled back the refused admission and commits this."""
    pending = db.session.scalar(
        db.select(JoinRequest).filter_by(org_id=org.id, user_id=user.id, status=RequestStatus.PENDING))
    if pending is not None:
        pending.waiting = True
        pending.invitation = pending.invitation or invitation
        pending.invite_link = pending.invite_link or invite_link
        return pending
    way = "an invitation" if invitation is not None else "an invite link"
    return _make_request(org, user, None, "", f"through {way}, with no free seat: on the waiting list",
                         waiting=True, invitation=invitation, invite_link=invite_link)


def _make_request(
    org: Organization, user: User, link: JoinLink | None, message: str | None, via: str, **source: Any,
) -> JoinRequest:
    join_request = JoinRequest(org_id=org.id, org=org, link=link, user=user,
                               message=(message or "").strip()[:MAX_MESSAGE], **source)
    db.session.add(join_request)
    db.session.flush()
    record(org, user, "join_request.made", f"asked to join {via}", join_request)
    emit(org, "join_request.created", join_request)
    unconfirmed = "" if user.is_verified else f" Their email address ({user.email}) is not confirmed."
    for recipient in recipients_for(org, link):
        notify(recipient, "join_request", f"{user.name} asked to join {org.name} {via}.{unconfirmed}",
               org=org)
    return join_request


def recipients_for(org: Organization, link: JoinLink | None) -> Sequence[User]:
    """Who hears about a request: the link's :func:`recipients_of`, or without a link
    (asked again from a dead invitation or invite link) every owner and manager."""
    return recipients_of(link) if link is not None else staff_of(org)


def recipients_of(link: JoinLink) -> Sequence[User]:
    """Who hears about a request through ``link`` (owners and managers only, always)."""
    if link.notify == Notify.NOBODY:
        return []
    staff = staff_of(link.org)
    if link.notify == Notify.ALL:
        return staff
    chosen = {u.id for u in link.recipients}
    return [u for u in staff if u.id in chosen]


def mail_new_request(join_request: JoinRequest) -> int:
    """Email the request's recipients (:func:`recipients_for`) over one connection."""
    link = join_request.link
    people = recipients_for(join_request.org, link)
    url = external_url("join_requests.panel", slug=join_request.org.slug)
    subject = f"{join_request.user.name} asked to join {join_request.org.name}"
    if not join_request.user.is_verified:
        subject += " (address not confirmed)"
    return _mail_each(
        [(person.email, subject, "join_request_new", {"recipient": person}) for person in people],
        join_request=join_request, org=join_request.org, link=link, url=url,
    )


def _mail_each(messages: Iterable[tuple[str, str, str, dict[str, Any]]], **context: Any) -> int:
    """Send ``(to, subject, template, extra context)`` messages over one connection; a
    refused one is logged and the rest go on. Returns how many were sent."""
    sent = 0
    with connection() as send:
        for to, subject, template, extra in messages:
            try:
                send(build_message(to, subject, template, **context, **extra))
                sent += 1
            except MailDeliveryError as error:
                current_app.logger.warning("join request mail to %s failed: %s", to, error)
    return sent


# --- Deciding --------------------------------------------------------------------------

def _lock(join_request: JoinRequest) -> JoinRequest:
    return db.session.scalar(
        db.select(JoinRequest).where(JoinRequest.id == join_request.id)
        .with_for_update().execution_options(populate_existing=True)
    )


def _decide(org: Organization, actor: User, join_request: JoinRequest, status: str) -> JoinRequest:
    join_request = _lock(join_request)
    if join_request.status != RequestStatus.PENDING:
        raise DomainError(f"This request was already {join_request.status_label.lower()}.")
    user = join_request.user
    if status == RequestStatus.ACCEPTED and not user.is_verified:
        raise DomainError(
            f"{user.name} has not confirmed the address {user.email} yet, so it may not be "
            "theirs. You can accept the request once they confirm it, or reject or dismiss it now."
        )
    join_request.status = status
    join_request.decided_at = now()
    join_request.decided_by_id = actor.id
    return join_request


def accept_request(org: Organization, actor: User, join_request: JoinRequest) -> JoinRequest:
    """Grant what the request came through: the join request link's role and groups, or
    for the waiting list the invitation's or invite link's (with their end of access);
    Member and no groups when that is gone. Refuses a request that is no longer pending,
    one from an account whose email address is not confirmed yet (it may belong to
    someone else; rejecting or dismissing still works), and a full organization
    (:class:`invites.orgs.seats.NoFreeSeat`). The caller commits, then mails the requester."""
    join_request = _decide(org, actor, join_request, RequestStatus.ACCEPTED)
    user = join_request.user
    source = join_request.invitation or join_request.invite_link or join_request.link
    admit(org, user, source.role if source else Role.MEMBER, source.groups if source else [],
          verb="join_request.accepted", actor=actor, target=join_request,
          access_until=getattr(source, "access_until", None),
          describe=lambda admitted: f"accepted {user.name}'s request to join")
    if join_request.invitation is not None and join_request.invitation.status == Status.PENDING:
        join_request.invitation.status = Status.ACCEPTED  # answered through the waiting list
        join_request.invitation.accepted_user_id = user.id
        join_request.invitation.responded_at = now()
        join_request.invitation.stop_reminders()
        emit(org, "invitation.accepted", join_request.invitation)
    notify(user, "join_request_accepted", f"Your request to join {org.name} was accepted.", org=org)
    db.session.flush()
    emit(org, "join_request.accepted", join_request)
    return join_request


def reject_request(org: Organization, actor: User, join_request: JoinRequest) -> JoinRequest:
    """Reject: the person cannot request again. Refuses a request no longer pending."""
    join_request = _decide(org, actor, join_request, RequestStatus.REJECTED)
    user = join_request.user
    record(org, actor, "join_request.rejected", f"rejected {user.name}'s request to join", join_request)
    emit(org, "join_request.rejected", join_request)
    notify(user, "join_request_rejected", f"Your request to join {org.name} was not accepted.", org=org)
    return join_request


def dismiss_request(org: Organization, actor: User, join_request: JoinRequest) -> None:
    """Delete the request without an answer: the person may request again."""
    name = join_request.user.name
    db.session.delete(join_request)
    record(org, actor, "join_request.dismissed", f"dismissed {name}'s request to join")


def mail_decision(join_request: JoinRequest) -> int:
    """Email the requester that their request was accepted or rejected."""
    accepted = join_request.status == RequestStatus.ACCEPTED
    org = join_request.org
    subject = f"Your request to join {org.name} was {'accepted' if accepted else 'not accepted'}"
    url = external_url("orgs.show", slug=org.slug) if accepted else external_url("home.dashboard")
    return _mail_each(
        [(join_request.user.email, subject, "join_request_decided", {})],
        join_request=join_request, org=org, accepted=accepted, url=url,
    )


FILTERS = (RequestStatus.PENDING, RequestStatus.REJECTED, RequestStatus.ACCEPTED)


def filtered_requests(org: Organization, status: str = RequestStatus.PENDING) -> Select[tuple[JoinRequest]]:
    """``org``'s join requests with this status (one of ``FILTERS``; anything else: all),
    newest first, with the requester, the link and who decided loaded alongside."""
    query = (
        db.select(JoinRequest)
        .options(joinedload(JoinRequest.user), joinedload(JoinRequest.link),
                 joinedload(JoinRequest.decided_by))
        .where(JoinRequest.org_id == org.id)
        .order_by(JoinRequest.created_at.desc(), JoinRequest.id.desc())
    )
    if status in FILTERS:
        query = query.where(JoinRequest.status == status)
    return query


def page_of_requests(
    org: Organization, page: int, per_page: int, status: str = RequestStatus.PENDING
) -> Pagination:
    """The page ``page`` of :func:`filtered_requests` (the panel)."""
    return paginate(filtered_requests(org, status), page, per_page)


def pending_count(org: Organization) -> int:
    return db.session.scalar(
        db.select(func.count(JoinRequest.id)).filter_by(org_id=org.id, status=RequestStatus.PENDING)
    )
