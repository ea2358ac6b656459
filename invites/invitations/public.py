"""Email invitations, the invitee's side: the emailed link's public ``/i/<token>`` pages.
They register on the blueprint of :mod:`invites.invitations.routes`. GET never changes
anything here: accepting and declining are deliberate POSTs, because mail scanners open links.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Mapping

from flask import abort, flash, make_response, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user
from sqlalchemy.exc import IntegrityError
from werkzeug.wrappers import Response

from invites import policy
from invites.accounts.forms import RegisterForm
from invites.accounts.hints import ReturnHint, hint_for_endpoint
from invites.accounts.service import find_user_by_email, register_user
from invites.accounts.sessions import log_in, log_out
from invites.extensions import db, limiter
from invites.forms import EmptyForm
from invites.invitations import answering
from invites.invitations.routes import bp
from invites.join_requests import service as join_requests
from invites.orgs.admission import missing_groups, welcome
from invites.join_requests.waiting import put_on_waiting_list
from invites.orgs.seats import NoFreeSeat
from invites.transaction import attempt

if TYPE_CHECKING:
    from invites.invitations.models import Invitation
    from invites.orgs.models import Organization

UNAVAILABLE_STATUS = {"unknown": 404, "wrong_account": 403, "unverified": 403}

# The dead invitations whose page offers "Ask for a new invitation" (issue 18), and how
# the request names where it came from. Accepted and declined ones were answered: no offer.
ASK_AGAIN = {"expired": "an expired invitation", "cancelled": "a cancelled invitation"}


def _unavailable(error: answering.InvitationUnavailable, invitation: Invitation | None = None) -> Response:
    org = invitation.org if invitation is not None else None
    return make_response(
        render_template("invitations/unavailable.html", reason=error.reason,
                        message=error.message, invitation=invitation, form=EmptyForm(),
                        ask_again=error.reason in ASK_AGAIN,
                        member=org is not None and policy.role_of(current_user, org) is not None),
        UNAVAILABLE_STATUS.get(error.reason, 410),
    )


def _dead_reason(invitation: Invitation) -> str | None:
    """Why nobody may answer ``invitation`` any more (expired, cancelled, used,
    declined), or None while it is open."""
    try:
        answering.check_answerable(invitation)
    except answering.InvitationUnavailable as error:
        return error.reason
    return None


def _answerable(token: str) -> Invitation:
    """The invitation this link answers. Otherwise the request ends here (``abort`` with
    the page that says why, or, for a member of its organization, the organization)."""
    invitation = answering.find_by_token(token)
    try:
        answering.check_answerable(invitation)
    except answering.InvitationUnavailable as error:
        if invitation is not None and current_user.is_authenticated:
            if error.reason == "used" and invitation.accepted_user_id == current_user.id:
                flash(f"You already accepted this invitation to {invitation.org.name}.", "info")
                abort(redirect(url_for("orgs.show", slug=invitation.org.slug)))
            abort_if_member(invitation.org)
        abort(_unavailable(error, invitation))
    assert invitation is not None  # check_answerable refuses None
    return invitation


def abort_if_member(org: Organization) -> None:
    """A member following a dead invitation or invite link of their own organization goes
    there with a note, never to an error page (issue 18, part 5)."""
    if current_user.is_authenticated and policy.role_of(current_user, org) is not None:
        flash(welcome(org, None, []), "info")
        abort(redirect(url_for("orgs.show", slug=org.slug)))


def ask_for_new_invitation(org: Organization, dead_way: str | None, back: str) -> ResponseReturnValue:
    """"Ask for a new invitation" on a dead invitation's or invite link's page (``back``):
    a join request to ``org`` (:func:`join_requests.ask_again`), mailed to its owners and
    managers after the commit. ``dead_way`` None (the invitation or link is still open,
    or was answered or deleted) has nothing to ask: back to the page. Visitors log in
    first; a refusal (pending, rejected) is flashed on the page; a member is sent to the
    organization."""
    if not current_user.is_authenticated:
        return redirect(url_for("accounts.login", next=back))
    if dead_way is None:
        return redirect(back)
    abort_if_member(org)
    try:
        with attempt(category="info") as done:
            join_request = join_requests.ask_again(org, current_user, dead_way)
    except IntegrityError:  # the same person asking twice at the same moment
        db.session.rollback()
        flash(join_requests.RequestRefused("pending").message, "info")
        return redirect(back)
    if not done:
        return redirect(back)
    join_requests.mail_new_request(join_request)
    flash(f"You asked to join {org.name}. You will hear by email when someone answers.", "success")
    return redirect(url_for("home.dashboard"))


@hint_for_endpoint("invitations.respond")
def _invited_address(view_args: Mapping[str, Any]) -> ReturnHint | None:
    """Logging in or registering on the way back to an open invitation: its address filled
    in (the link's holder knows it already), and its own registration form."""
    token = view_args["token"]
    invitation = answering.find_by_token(token)
    try:
        answering.check_answerable(invitation)
    except answering.InvitationUnavailable:
        return None
    assert invitation is not None  # check_answerable refuses None
    return ReturnHint(invitation.email, url_for("invitations.register", token=token),
                      note=f"Log in to answer the invitation to join {invitation.org.name}.")


@bp.route("/i/<token>")
@limiter.limit("30 per minute")
def respond(token: str) -> ResponseReturnValue:
    invitation = _answerable(token)
    if current_user.is_authenticated and current_user.email != invitation.email:
        return _unavailable(answering.InvitationUnavailable("wrong_account"), invitation)
    return render_template(
        "invitations/respond.html", invitation=invitation, token=token, form=EmptyForm(),
        has_account=None if current_user.is_authenticated else find_user_by_email(invitation.email) is not None,
    )


@bp.route("/i/<token>/accept", methods=["POST"])
@limiter.limit("10 per minute")
def accept(token: str) -> ResponseReturnValue:
    invitation = _answerable(token)
    if not EmptyForm().validate_on_submit():
        return redirect(url_for("invitations.respond", token=token))
    if not current_user.is_authenticated:
        return redirect(url_for("accounts.login", next=url_for("invitations.respond", token=token)))
    org = invitation.org
    # A member already keeps their role (``admit``) and is told only what is new.
    was_member = policy.role_of(current_user, org) is not None
    new_groups = missing_groups(current_user, invitation.groups) if was_member else invitation.groups
    try:
        membership = answering.accept_invitation(invitation, current_user, by_link=True)
    except answering.InvitationUnavailable as error:
        db.session.rollback()
        return _unavailable(error, invitation)
    except NoFreeSeat:
        return put_on_waiting_list(org, invitation=invitation)
    except IntegrityError:  # a second accept at the same moment already made the membership
        db.session.rollback()
        return redirect(url_for("orgs.show", slug=invitation.org.slug))
    db.session.commit()
    answering.tell_inviter_by_mail(invitation)
    db.session.commit()
    flash(welcome(org, None if was_member else membership.role_label, new_groups), "success")
    return redirect(url_for("orgs.show", slug=org.slug))


@bp.route("/i/<token>/decline", methods=["POST"])
@limiter.limit("10 per minute")
def decline(token: str) -> ResponseReturnValue:
    invitation = _answerable(token)
    if not EmptyForm().validate_on_submit():
        return redirect(url_for("invitations.respond", token=token))
    user = current_user if current_user.is_authenticated else None
    try:
        answering.decline_invitation(invitation, user, by_link=True)
    except answering.InvitationUnavailable as error:
        db.session.rollback()
        return _unavailable(error, invitation)
    db.session.commit()
    answering.tell_inviter_by_mail(invitation)
    db.session.commit()
    return render_template("invitations/declined.html", invitation=invitation)


@bp.route("/i/<token>/ask", methods=["POST"])
@limiter.limit("5 per minute; 30 per hour")
def ask_again(token: str) -> ResponseReturnValue:
    """"Ask for a new invitation" on an expired or cancelled invitation's page. An unknown
    token answers 404; an invitation still open, accepted or declined has nothing to ask:
    back to its page."""
    invitation = answering.find_by_token(token)
    if invitation is None:
        return _unavailable(answering.InvitationUnavailable("unknown"))
    return ask_for_new_invitation(invitation.org, ASK_AGAIN.get(_dead_reason(invitation) or ""),
                                  url_for("invitations.respond", token=token))


@bp.route("/i/<token>/register", methods=["GET", "POST"])
@limiter.limit("5 per minute; 30 per hour", methods=["POST"])
def register(token: str) -> ResponseReturnValue:
    """Register with the invited address, prefilled and locked. Following the emailed
    link proves the address, so the account starts verified."""
    invitation = _answerable(token)
    back = url_for("invitations.respond", token=token)
    if current_user.is_authenticated:
        return redirect(back)
    if find_user_by_email(invitation.email) is not None:
        flash(f"You already have an account with {invitation.email}: log in to accept.", "info")
        return redirect(url_for("accounts.login", next=back))
    form = RegisterForm()
    form.email.data = invitation.email  # locked: whatever was posted, this is the address
    if form.validate_on_submit():
        with attempt(form) as registered:
            user = register_user(form.name.data, form.username.data, invitation.email,
                                 form.password.data, time_zone=form.time_zone.data)
            answering.confirm_address(user)  # the link proves the address
        if registered:
            log_in(user)
            flash(f"Your account is ready, {user.name}. Accept the invitation to join "
                  f"{invitation.org.name}.", "success")
            return redirect(back)
    return render_template(
        "accounts/register.html", form=form, email_locked=True,
        note=f"Create your account to join {invitation.org.name}, with the address the "
             "invitation was sent to.",
        action=url_for("invitations.register", token=token),
        login_url=url_for("accounts.login", next=back),
    )


@bp.route("/i/<token>/switch", methods=["POST"])
def switch_account(token: str) -> ResponseReturnValue:
    """From the "sent to another address" page: log out, then log in with the right one."""
    if EmptyForm().validate_on_submit():
        log_out()
    return redirect(url_for("accounts.login", next=url_for("invitations.respond", token=token)))
