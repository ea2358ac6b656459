"""Email invitations: the Invitations panel, "Invite Member", and the emailed link.

Organization pages live under ``/o/<slug>``; the link an invitee follows is the short
public ``/i/<token>``. GET never changes anything there: accepting and declining are
deliberate POSTs, because mail scanners open links.
"""
from flask import (Blueprint, current_app, flash, make_response, redirect, render_template,
                   request, session, url_for)
from flask_login import current_user, login_required
from sqlalchemy.exc import IntegrityError

from invites import policy
from invites.accounts.forms import RegisterForm
from invites.accounts.service import find_user_by_email, register_user
from invites.accounts.sessions import log_in, log_out
from invites.errors import DomainError
from invites.extensions import db, limiter
from invites.forms import EmptyForm, offer_roles_and_groups, unconfirmed
from invites.htmx import fragment, fragment_or_redirect, is_htmx, page_or_fragment
from invites.invitations import service
from invites.invitations.forms import InvitationEmailForm, InviteForm
from invites.invitations.loaders import load_groups, load_invitation, load_own_invitation
from invites.invitations.models import Status
from invites.mail.routes import mail_html_response
from invites.orgs.loaders import load_org, page_number
from invites.orgs.models import Role

bp = Blueprint("invitations", __name__)

OUTCOMES_KEY = "invitation_outcomes"
SAMPLE_MESSAGE = "The inviter's personal message appears here."
UNAVAILABLE_STATUS = {"unknown": 404, "wrong_account": 403, "unverified": 403}


# --- The Invitations panel (F9) ----------------------------------------------------------

@bp.route("/o/<slug>/manage/invitations")
@login_required
def panel(slug):
    org = load_org(slug)
    policy.require(current_user, "invitations.manage", org)
    version = service.panel_version(org)
    if is_htmx() and request.args.get("since") == version:
        return "", 204  # nothing changed since the table was drawn: htmx keeps it
    status = request.args.get("status") if request.args.get("status") in service.FILTERS else ""
    search = request.args.get("q", "").strip()[:100]
    page = service.page_of_invitations(
        org, page_number(), current_app.config["PAGE_SIZE"], status or None, search or None
    )
    context = dict(
        org=org, page=page, status=status, search=search, version=version,
        filters=[(value, Status.LABELS[value]) for value in service.FILTERS],
        form=EmptyForm(),
    )
    if is_htmx() and "since" in request.args:
        # The poll redraws the table only: out-of-band flashes would wipe the message of
        # the action just taken on this page, and use up messages meant for another one.
        return render_template("invitations/_table.html", **context)
    return page_or_fragment("invitations/panel.html", "invitations/_table.html", **context)


def _row(org, invitation):
    return fragment_or_redirect(
        "invitations/_row.html", url_for("invitations.panel", slug=org.slug),
        org=org, invitation=invitation, form=EmptyForm(),
    )


@bp.route("/o/<slug>/invitations/<int:invitation_id>/resend", methods=["POST"])
@login_required
@limiter.limit("30 per minute")
def resend(slug, invitation_id):
    org = load_org(slug)
    invitation = load_invitation(org, invitation_id)
    policy.require(current_user, "invitations.manage", org, invitation)
    if EmptyForm().validate_on_submit():
        try:
            outcome = service.resend_invitation(org, current_user, invitation)
        except DomainError as error:
            db.session.rollback()
            flash(error.message, "error")
        else:
            db.session.commit()
            if outcome.ok:
                flash(f"Invitation sent again to {invitation.email}.", "success")
            else:
                flash(f"{invitation.email}: {outcome.detail}", "error")
    return _row(org, invitation)


@bp.route("/o/<slug>/invitations/<int:invitation_id>/cancel", methods=["POST"])
@login_required
def cancel(slug, invitation_id):
    org = load_org(slug)
    invitation = load_invitation(org, invitation_id)
    policy.require(current_user, "invitations.manage", org, invitation)
    form = EmptyForm()
    if not form.validate_on_submit():
        return redirect(url_for("invitations.panel", slug=org.slug))
    asking = unconfirmed(
        form,
        title=f"Cancel the invitation of {invitation.email}?",
        message="Its link will stop working. You can invite the address again later.",
        action=url_for("invitations.cancel", slug=org.slug, invitation_id=invitation.id),
        button="Cancel invitation",
        cancel=url_for("invitations.panel", slug=org.slug),
    )
    if asking is not None:
        return asking
    try:
        service.cancel_invitation(org, current_user, invitation)
    except DomainError as error:
        db.session.rollback()
        flash(error.message, "error")
    else:
        db.session.commit()
        flash(f"The invitation of {invitation.email} is cancelled.", "success")
    return _row(org, invitation)


@bp.route("/o/<slug>/manage/invitations/email", methods=["GET", "POST"])
@login_required
def email_settings(slug):
    org = load_org(slug)
    policy.require(current_user, "settings.edit", org)
    form = InvitationEmailForm(obj=org)
    if form.validate_on_submit():
        changed = service.update_invitation_email(org, current_user, form.invitation_intro.data)
        db.session.commit()
        flash("Invitation email saved." if changed else "Nothing changed.", "success")
        return redirect(url_for("invitations.email_settings", slug=org.slug))
    preview = service.preview_message(
        org, current_user, "", Role.MEMBER, [], SAMPLE_MESSAGE
    )
    return render_template(
        "invitations/email_settings.html", org=org, form=form, preview=preview,
        frame_fields=[("message", SAMPLE_MESSAGE)],
    )


# --- "Invite Member" (F7) --------------------------------------------------------------

def _invite_form(org, formdata=True):
    """The form with the role and group choices this user may make. ``formdata`` True
    reads the request's form, None gives an empty form, a MultiDict reads that."""
    if formdata is True:
        form = InviteForm()
    elif formdata is None:
        form = InviteForm(formdata=None)
    else:  # the preview frame's fields: read to render only, so no CSRF token to check
        form = InviteForm(formdata=formdata, meta={"csrf": False})
    return offer_roles_and_groups(
        form, current_user, org, fresh=formdata is None, preset_group=request.args.get("group", type=int)
    )


def _invite_page(org, form, preview=None, outcomes=None, status=200):
    return render_template(
        "invitations/new.html", org=org, form=form, preview=preview, outcomes=outcomes,
        frame_fields=_frame_fields(form) if preview is not None else None,
        preset_group=request.args.get("group", type=int),
        may_add_new=policy.can(current_user, "people.add_new", org),
    ), status


def _request_args(org, form):
    return (form.addresses.data or "", form.role.data, load_groups(org, form.groups.data or []),
            form.message.data or "")


@bp.route("/o/<slug>/invitations/new", methods=["GET"])
@login_required
def new(slug):
    org = load_org(slug)
    policy.require(current_user, "people.invite", org)
    # After sending, the per-address results come here once (post/redirect/get), so a
    # reload does not send the batch again.
    outcomes = [service.Outcome(*row) for row in session.pop(OUTCOMES_KEY, [])]
    return _invite_page(org, _invite_form(org, formdata=None), outcomes=outcomes)


@bp.route("/o/<slug>/invitations/new", methods=["POST"])
@login_required
@limiter.limit("20 per minute; 200 per hour")
def send(slug):
    org = load_org(slug)
    policy.require(current_user, "people.invite", org)
    form = _invite_form(org)
    if not form.validate_on_submit():
        return _invite_page(org, form, status=422)
    try:
        outcomes = service.send_invitations(org, current_user, *_request_args(org, form))
    except DomainError as error:
        db.session.rollback()
        error.apply_to(form)
        return _invite_page(org, form, status=422)
    except IntegrityError:  # the same address invited by someone else at the same moment
        db.session.rollback()
        form.form_errors.append("One of these addresses was invited at the same moment. Send again.")
        return _invite_page(org, form, status=409)
    db.session.commit()
    session[OUTCOMES_KEY] = [(o.address[:254], o.kind, o.detail[:300]) for o in outcomes]
    return redirect(url_for("invitations.new", slug=org.slug, group=request.args.get("group", type=int)))


def _preview(org, form):
    """The email the form would send; what the form may not choose falls back to defaults."""
    role = form.role.data if form.role.data in form.allowed_roles else Role.MEMBER
    group_ids = [gid for gid in (form.groups.data or []) if gid in form.allowed_groups]
    return service.preview_message(
        org, current_user, form.addresses.data or "", role, load_groups(org, group_ids),
        form.message.data or "",
    )


@bp.route("/o/<slug>/invitations/preview", methods=["POST"])
@login_required
def preview(slug):
    """The exact email, before sending: a fragment for htmx, the form page without JS."""
    org = load_org(slug)
    policy.require(current_user, "people.invite", org)
    form = _invite_form(org)
    form.validate()  # errors shown beside the fields; the preview renders what it can
    message = _preview(org, form)
    if is_htmx():
        return fragment("invitations/_preview.html", preview=message, open=True, org=org,
                        frame_fields=_frame_fields(form))
    return _invite_page(org, form, preview=message)


def _frame_fields(form):
    """What the preview frame's own form posts to ``preview_html`` (the HTML body does
    not name the recipient, so the addresses are not needed)."""
    fields = [("role", form.role.data or ""), ("message", form.message.data or "")]
    return fields + [("groups", gid) for gid in form.groups.data or []]


@bp.route("/o/<slug>/invitations/preview.html", methods=["POST"])
@login_required
def preview_html(slug):
    """The preview's HTML version, loaded into a sandboxed frame by a form that targets
    it, and served with the mail's own CSP so its inline styles apply (a ``srcdoc`` frame
    would inherit the page's strict CSP). A POST, as a message can be long."""
    org = load_org(slug)
    policy.require(current_user, "people.invite", org)
    form = _invite_form(org, formdata=request.form)
    return mail_html_response(_preview(org, form).html)


@bp.route("/o/<slug>/invitations/people")
@login_required
def people(slug):
    """Autocomplete for the "To" field: this organization's members only."""
    org = load_org(slug)
    policy.require(current_user, "people.invite", org)
    matches = service.search_members(org, current_user, request.args.get("person", ""))
    return render_template(
        "invitations/_people.html", matches=matches, query=request.args.get("person", ""),
        show_email=policy.role_of(current_user, org) in policy.STAFF,
    )


# --- Answering from the bell and the dashboard (F10, F15) -------------------------------

def _answer_inline(invitation_id, accept):
    invitation = load_own_invitation(current_user, invitation_id)
    if EmptyForm().validate_on_submit():
        try:
            if accept:
                service.accept_invitation(invitation, current_user)
            else:
                service.decline_invitation(invitation, current_user)
        except service.InvitationUnavailable as error:
            db.session.rollback()
            flash(error.message, "error")
        except IntegrityError:
            db.session.rollback()
            flash(f"You are already a member of {invitation.org.name}.", "info")
        else:
            db.session.commit()
            service.tell_inviter_by_mail(invitation)
            db.session.commit()
            if accept:
                flash(f"Welcome to {invitation.org.name}!", "success")
            else:
                flash(f"You declined the invitation to {invitation.org.name}.", "info")
    if is_htmx():
        response = fragment("invitations/_prompt.html", invitation=invitation, form=EmptyForm())
        response.data += render_template("notifications/_bell.html", oob=True).encode()
        return response
    if accept and invitation.status == Status.ACCEPTED:
        return redirect(url_for("orgs.show", slug=invitation.org.slug))
    return redirect(url_for("orgs.dashboard"))


@bp.route("/invitations/<int:invitation_id>/accept", methods=["POST"])
@login_required
def accept_inline(invitation_id):
    return _answer_inline(invitation_id, accept=True)


@bp.route("/invitations/<int:invitation_id>/decline", methods=["POST"])
@login_required
def decline_inline(invitation_id):
    return _answer_inline(invitation_id, accept=False)


# --- The emailed link: /i/<token> (F10) -----------------------------------------------

def _unavailable(error, invitation=None):
    return make_response(
        render_template("invitations/unavailable.html", reason=error.reason,
                        message=error.message, invitation=invitation, form=EmptyForm()),
        UNAVAILABLE_STATUS.get(error.reason, 410),
    )


def _answerable(token):
    """(invitation, None) when the link can be answered, else (invitation, error page)."""
    invitation = service.find_by_token(token)
    try:
        service.check_answerable(invitation)
    except service.InvitationUnavailable as error:
        if error.reason == "used" and current_user.is_authenticated \
                and invitation.accepted_user_id == current_user.id:
            flash(f"You already accepted this invitation to {invitation.org.name}.", "info")
            return invitation, redirect(url_for("orgs.show", slug=invitation.org.slug))
        return invitation, _unavailable(error, invitation)
    return invitation, None


@bp.route("/i/<token>")
@limiter.limit("30 per minute")
def respond(token):
    invitation, refusal = _answerable(token)
    if refusal is not None:
        return refusal
    if current_user.is_authenticated and current_user.email != invitation.email:
        return _unavailable(service.InvitationUnavailable("wrong_account"), invitation)
    return render_template(
        "invitations/respond.html", invitation=invitation, token=token, form=EmptyForm(),
        has_account=None if current_user.is_authenticated else find_user_by_email(invitation.email) is not None,
    )


@bp.route("/i/<token>/accept", methods=["POST"])
@limiter.limit("10 per minute")
def accept(token):
    invitation, refusal = _answerable(token)
    if refusal is not None:
        return refusal
    if not EmptyForm().validate_on_submit():
        return redirect(url_for("invitations.respond", token=token))
    if not current_user.is_authenticated:
        return redirect(url_for("accounts.login", next=url_for("invitations.respond", token=token)))
    try:
        membership = service.accept_invitation(invitation, current_user, by_link=True)
    except service.InvitationUnavailable as error:
        db.session.rollback()
        return _unavailable(error, invitation)
    except IntegrityError:  # a second accept at the same moment already made the membership
        db.session.rollback()
        return redirect(url_for("orgs.show", slug=invitation.org.slug))
    db.session.commit()
    service.tell_inviter_by_mail(invitation)
    db.session.commit()
    groups = f" and {', '.join(g.name for g in invitation.groups)}" if invitation.groups else ""
    flash(f"Welcome to {invitation.org.name}! You joined as {membership.role_label}{groups}.", "success")
    return redirect(url_for("orgs.show", slug=invitation.org.slug))


@bp.route("/i/<token>/decline", methods=["POST"])
@limiter.limit("10 per minute")
def decline(token):
    invitation, refusal = _answerable(token)
    if refusal is not None:
        return refusal
    if not EmptyForm().validate_on_submit():
        return redirect(url_for("invitations.respond", token=token))
    user = current_user if current_user.is_authenticated else None
    try:
        service.decline_invitation(invitation, user, by_link=True)
    except service.InvitationUnavailable as error:
        db.session.rollback()
        return _unavailable(error, invitation)
    db.session.commit()
    service.tell_inviter_by_mail(invitation)
    db.session.commit()
    return render_template("invitations/declined.html", invitation=invitation)


@bp.route("/i/<token>/register", methods=["GET", "POST"])
@limiter.limit("5 per minute; 30 per hour", methods=["POST"])
def register(token):
    """Register with the invited address, prefilled and locked. Following the emailed
    link proves the address, so the account starts verified."""
    invitation, refusal = _answerable(token)
    if refusal is not None:
        return refusal
    back = url_for("invitations.respond", token=token)
    if current_user.is_authenticated:
        return redirect(back)
    if find_user_by_email(invitation.email) is not None:
        flash(f"You already have an account with {invitation.email}: log in to accept.", "info")
        return redirect(url_for("accounts.login", next=back))
    form = RegisterForm()
    form.email.data = invitation.email  # locked: whatever was posted, this is the address
    if form.validate_on_submit():
        try:
            user = register_user(form.name.data, form.username.data, invitation.email,
                                 form.password.data)
            service.confirm_address(user)  # the link proves the address
        except DomainError as error:
            db.session.rollback()
            error.apply_to(form)
        else:
            db.session.commit()
            log_in(user)
            flash(f"Your account is ready, {user.name}. Accept the invitation to join "
                  f"{invitation.org.name}.", "success")
            return redirect(back)
    return render_template(
        "accounts/register.html", form=form, email_locked=True,
        action=url_for("invitations.register", token=token),
        login_url=url_for("accounts.login", next=back),
    )


@bp.route("/i/<token>/switch", methods=["POST"])
def switch_account(token):
    """From the "sent to another address" page: log out, then log in with the right one."""
    if EmptyForm().validate_on_submit():
        log_out()
    return redirect(url_for("accounts.login", next=url_for("invitations.respond", token=token)))
