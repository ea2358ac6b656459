"""Answering an invitation (F10, F15): from the emailed link, the bell or the dashboard;
what each way checks, accepting, declining, and telling the inviter."""
from __future__ import annotations

from typing import TYPE_CHECKING

from flask import current_app
from sqlalchemy.orm import joinedload, selectinload

from invites import tokens
from invites.activity.service import record
from invites.clock import now
from invites.errors import Refusal
from invites.extensions import db
from invites.invitations.models import Invitation, Status
from invites.invitations.queries import lock_invitation
from invites.invitations.sending import announce_pending_invitations
from invites.mail.service import MailDeliveryError, build_message, connection, external_url
from invites.notifications.service import mark_invitation_read, notify
from invites.orgs.admission import admit
from invites.orgs.models import Membership
from invites.webhooks.outbox import emit

if TYPE_CHECKING:
    from invites.accounts.models import User


class InvitationUnavailable(Refusal):
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


def find_by_token(token: str | None) -> Invitation | None:
    """The invitation this link's token belongs to, or None."""
    return tokens.find_by_token(
        Invitation,
        token,
        joinedload(Invitation.org), joinedload(Invitation.inviter), selectinload(Invitation.groups),
    )


def check_answerable(invitation: Invitation | None, user: User | None = None) -> None:
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


def confirm_address(user: User) -> None:
    """``user`` proved their address (a confirmation link, or an invitation's): mark the
    account verified and bring the invitations sent to it into view."""
    if not user.is_verified:
        user.mark_verified()
        db.session.flush()
        announce_pending_invitations(user)


def check_may_answer(invitation: Invitation, user: User | None, by_link: bool) -> None:
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


def accept_invitation(invitation: Invitation, user: User, by_link: bool = False) -> Membership:
    """Grant the invitation's role and groups to ``user``, in the caller's transaction.

    Refuses (InvitationUnavailable) what :func:`check_may_answer` refuses, except that
    accepting twice by the same account is harmless and returns the membership.
    Returns the membership.
    """
    invitation = lock_invitation(invitation)
    org = invitation.org
    if invitation.status == Status.ACCEPTED and invitation.accepted_user_id == user.id:
        return db.session.scalar(db.select(Membership).filter_by(org_id=org.id, user_id=user.id))
    check_may_answer(invitation, user, by_link)
    invitation.status = Status.ACCEPTED
    invitation.stop_reminders()
    invitation.accepted_user_id = user.id
    invitation.responded_at = now()
    groups = f" and joined {', '.join(g.name for g in invitation.groups)}" if invitation.groups else ""
    admission = admit(
        org, user, invitation.role, invitation.groups, verb="invitation.accepted", target=invitation,
        access_until=invitation.access_until,
        describe=lambda admitted: f"accepted the invitation sent to {invitation.email} as "
                                  f"{admitted.membership.role_label}{groups}",
    )
    emit(org, "invitation.accepted", invitation)
    _tell_inviter_in_app(invitation, f"{user.name} accepted your invitation to join {org.name}.")
    mark_invitation_read(user, invitation)
    db.session.flush()
    return admission.membership


def decline_invitation(invitation: Invitation, user: User | None = None, by_link: bool = False) -> None:
    """Decline: the link stops working and the inviter is told. ``user`` is None for
    someone who declines from the emailed link without an account (the link is the proof).
    Refuses exactly what accepting refuses (:func:`check_may_answer`)."""
    if user is None and not by_link:
        raise InvitationUnavailable("unverified")
    invitation = lock_invitation(invitation)
    check_may_answer(invitation, user, by_link)
    invitation.status = Status.DECLINED
    invitation.stop_reminders()
    invitation.responded_at = now()
    who = user.name if user is not None else invitation.email
    record(invitation.org, user, "invitation.declined",
           f"declined the invitation sent to {invitation.email}" if user else
           f"{invitation.email} declined the invitation (from the emailed link)", invitation)
    emit(invitation.org, "invitation.declined", invitation)
    _tell_inviter_in_app(invitation, f"{who} declined your invitation to join {invitation.org.name}.")
    if user is not None:
        mark_invitation_read(user, invitation)


def _tell_inviter_in_app(invitation: Invitation, text: str) -> None:
    if invitation.inviter is not None:
        notify(invitation.inviter, f"invitation_{invitation.status}", text,
               org=invitation.org, invitation=invitation)


def tell_inviter_by_mail(invitation: Invitation) -> bool:
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
