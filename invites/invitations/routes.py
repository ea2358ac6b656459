"""Email invitations, the staff side: the Invitations panel, "Invite Member" and its
preview, and answering from the bell or the dashboard. The emailed link's public
``/i/<token>`` pages are in :mod:`invites.invitations.public`, on the same blueprint.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from flask import Blueprint, current_app, flash, redirect, render_template, request, session, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user, login_required
from sqlalchemy.exc import IntegrityError
from werkzeug.datastructures import MultiDict
from werkzeug.wrappers import Response

from invites import policy
from invites.extensions import db, limiter
from invites.forms import EmptyForm, confirm_first
from invites.groups.forms import offer_roles_and_groups
from invites.htmx import fragment, fragment_or_redirect, is_htmx, page_or_fragment
from invites.invitations import answering, editing, messages, queries, sending
from invites.invitations.forms import EditInvitationForm, InvitationEmailForm, InviteForm
from invites.groups.loaders import group_names, load_group, load_groups
from invites.invitations.loaders import load_invitation, load_own_invitation
from invites.invitations.models import Status
from invites.mail.routes import mail_html_response
from invites.orgs.loaders import load_org, load_org_for
from invites.pagination import page_number
from invites.orgs.access import end_of
from invites.join_requests.waiting import put_on_waiting_list
from invites.orgs.seats import NoFreeSeat
from invites.orgs.models import Role
from invites.transaction import attempt

if TYPE_CHECKING:
    from collections.abc import Sequence

    from invites.groups.models import Group
    from invites.invitations.models import Invitation
    from invites.mail.service import Message
    from invites.orgs.models import Organization

bp = Blueprint("invitations", __name__)

OUTCOMES_KEY = "invitation_outcomes"
SAMPLE_MESSAGE = "The inviter's personal message appears here."


# --- The Invitations panel (F9) ----------------------------------------------------------

FILTER_GROUPS = 100  # groups offered by the panel's filter


@bp.route("/o/<slug>/manage/invitations")
@login_required
def panel(slug: str) -> ResponseReturnValue:
    org = load_org_for(slug, "invitations.manage")
    if is_htmx() and request.args.get("since") == queries.panel_version(org):
        return "", 204  # nothing changed since the table was drawn: htmx keeps it
    status = request.args.get("status") if request.args.get("status") in queries.FILTERS else ""
    search = request.args.get("q", "").strip()[:100]
    # Only this organization's groups filter: another id is ignored, like an unknown status.
    chosen_id = request.args.get("group", type=int)
    chosen = load_groups(org, [chosen_id] if chosen_id else [])  # no query without a choice
    group = chosen[0].id if chosen else None
    page = queries.page_of_invitations(
        org, page_number(), current_app.config["PAGE_SIZE"], status or None, search or None, group
    )
    context = dict(
        org=org, page=page, status=status, search=search, group=group, version=page.carried["version"],
        filters=[(value, Status.LABELS[value]) for value in queries.FILTERS],
    )
    if not is_htmx():
        # The full page's filter offers the first groups by name (an organization may
        # have thousands: a group's own page lists its invitations too), and the chosen one.
        groups: list[Any] = list(group_names(org, FILTER_GROUPS + 1))
        context["more_groups"] = len(groups) > FILTER_GROUPS
        del groups[FILTER_GROUPS:]
        if chosen and chosen[0].id not in {g.id for g in groups}:
            groups.append(chosen[0])
        context["groups"] = groups
    if is_htmx() and "since" in request.args:
        # The poll redraws the table only: out-of-band flashes would wipe the message of
        # the action just taken on this page, and use up messages meant for another one.
        return render_template("invitations/_table.html", **context)
    return page_or_fragment("invitations/panel.html", "invitations/_table.html", **context)


def _load_for_action(slug: str, invitation_id: int) -> tuple[Organization, Invitation, str, int | None]:
    """The organization, the invitation the user may manage (404 outside the organization,
    403 without the right), where a plain POST returns to, and the group whose page it
    came from (``?from_group=``: a group manager's list, seed 004), loaded through the
    organization first so another organization's id is a 404 before anything happens."""
    org = load_org(slug)
    invitation = load_invitation(org, invitation_id)
    from_group = request.args.get("from_group", type=int)
    if from_group is not None:
        group = load_group(org, from_group)
        back = url_for("groups.show", slug=org.slug, group_id=group.id, _anchor="group-invitations")
    else:
        back = url_for("invitations.panel", slug=org.slug)
    policy.require(current_user, "invitations.manage", org, invitation)
    return org, invitation, back, from_group


def _row(org: Organization, invitation: Invitation, back: str, from_group: int | None) -> Response:
    return fragment_or_redirect(
        "invitations/_one_row.html", back,
        org=org, invitation=invitation, from_group=from_group,
    )


@bp.route("/o/<slug>/invitations/<int:invitation_id>/resend", methods=["POST"])
@login_required
@limiter.limit("30 per minute")
def resend(slug: str, invitation_id: int) -> ResponseReturnValue:
    org, invitation, back, from_group = _load_for_action(slug, invitation_id)
    if EmptyForm().validate_on_submit():
        with attempt() as done:
            outcome = sending.resend_invitation(org, current_user, invitation, commit=db.session.commit)
        if done:
            if outcome.ok:
                flash(f"Invitation sent again to {invitation.email}.", "success")
            else:
                flash(f"{invitation.email}: {outcome.detail}", "error")
    return _row(org, invitation, back, from_group)


@bp.route("/o/<slug>/invitations/<int:invitation_id>/cancel", methods=["POST"])
@login_required
def cancel(slug: str, invitation_id: int) -> ResponseReturnValue:
    org, invitation, back, from_group = _load_for_action(slug, invitation_id)
    asking = confirm_first(
        title=f"Cancel the invitation of {invitation.email}?",
        message="Its link will stop working. You can invite the address again later.",
        button="Cancel invitation", cancel=back,
    )
    if asking is not None:
        return asking
    with attempt() as done:
        sending.cancel_invitation(org, current_user, invitation)
    if done:
        flash(f"The invitation of {invitation.email} is cancelled.", "success")
    return _row(org, invitation, back, from_group)


@bp.route("/o/<slug>/invitations/<int:invitation_id>")
@login_required
def row(slug: str, invitation_id: int) -> ResponseReturnValue:
    """The invitation's row, for htmx (an inline edit given up); without JavaScript the
    page it is listed on."""
    org, invitation, back, from_group = _load_for_action(slug, invitation_id)
    if is_htmx():
        return fragment("invitations/_one_row.html", org=org, invitation=invitation, from_group=from_group)
    return redirect(back)


def _edit_form(org: Organization, invitation: Invitation) -> EditInvitationForm:
    form = offer_roles_and_groups(EditInvitationForm(data={
        "role": invitation.role, "groups": [group.id for group in invitation.groups],
        "expires_on": editing.last_day(invitation),
    }), current_user, org)
    if invitation.role not in form.allowed_roles:
        # Shown as it is, not silently lowered to the first choice: saving it is refused.
        form.role.choices = [(invitation.role, invitation.role_label), *form.role.choices]
    return form


@bp.route("/o/<slug>/invitations/<int:invitation_id>/edit", methods=["GET", "POST"])
@login_required
def edit(slug: str, invitation_id: int) -> ResponseReturnValue:
    """Change a pending invitation's role, groups and last day: inline for htmx (the edit
    row, then the row), else a page that returns where it came from. An invitation no
    longer pending is refused: htmx gets its row and the reason, a page 409."""
    org, invitation, back, from_group = _load_for_action(slug, invitation_id)
    form = _edit_form(org, invitation)
    status = 200
    if form.validate_on_submit():
        with attempt(form) as done:
            changes = editing.edit_invitation(org, current_user, invitation, form.role.data,
                                              load_groups(org, form.groups.data or []), form.expires_on.data)
        if done:
            flash(f"Invitation of {invitation.email} changed: {'; '.join(changes)}." if changes
                  else "Nothing changed.", "success" if changes else "info")
            return _row(org, invitation, back, from_group)
        status = 409 if done.error is not None and done.error.code == "not_editable" else 422
    elif request.method == "POST":
        status = 422
    refusal = editing.editing_refusal(invitation)
    if refusal is not None:
        if is_htmx():
            flash(refusal, "error")
            return _row(org, invitation, back, from_group)
        status = 409
        if refusal not in form.form_errors:
            form.form_errors.append(refusal)
    context = dict(org=org, invitation=invitation, form=form, back=back, from_group=from_group,
                   editable=refusal is None)
    if is_htmx():  # errors beside the fields, in the row (htmx swaps only 2xx answers)
        return fragment("invitations/_edit_row.html", **context)
    return render_template("invitations/edit.html", **context), status


@bp.route("/o/<slug>/manage/invitations/email", methods=["GET", "POST"])
@login_required
def email_settings(slug: str) -> ResponseReturnValue:
    org = load_org_for(slug, "settings.edit")
    form = InvitationEmailForm(obj=org)
    if form.validate_on_submit():
        changed = messages.update_invitation_email(org, current_user, form.invitation_intro.data)
        db.session.commit()
        flash("Invitation email saved." if changed else "Nothing changed.", "success")
        return redirect(url_for("invitations.email_settings", slug=org.slug))
    preview = messages.preview_message(
        org, current_user, "", Role.MEMBER, [], SAMPLE_MESSAGE
    )
    return render_template(
        "invitations/email_settings.html", org=org, form=form, preview=preview,
        frame_fields=[("message", SAMPLE_MESSAGE)],
    )


# --- "Invite Member" (F7) --------------------------------------------------------------

def _invite_form(org: Organization, formdata: bool | MultiDict[str, str] | None = True) -> InviteForm:
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


def _invite_page(
    org: Organization, form: InviteForm, preview: Message | None = None,
    outcomes: list[sending.Outcome] | None = None, status: int = 200,
) -> tuple[str, int]:
    return render_template(
        "invitations/new.html", org=org, form=form, preview=preview, outcomes=outcomes,
        frame_fields=_frame_fields(form) if preview is not None else None,
        preset_group=request.args.get("group", type=int),
        may_add_new=policy.can(current_user, "people.add_new", org),
    ), status


def _request_args(org: Organization, form: InviteForm) -> tuple[str, str, Sequence[Group], str]:
    return (form.addresses.data or "", form.role.data, load_groups(org, form.groups.data or []),
            form.message.data or "")


@bp.route("/o/<slug>/invitations/new", methods=["GET"])
@login_required
def new(slug: str) -> ResponseReturnValue:
    org = load_org_for(slug, "people.invite")
    # After sending, the per-address results come here once (post/redirect/get), so a
    # reload does not send the batch again.
    outcomes = [sending.Outcome(*row) for row in session.pop(OUTCOMES_KEY, [])]
    return _invite_page(org, _invite_form(org, formdata=None), outcomes=outcomes)


@bp.route("/o/<slug>/invitations/new", methods=["POST"])
@login_required
@limiter.limit("20 per minute; 200 per hour")
def send(slug: str) -> ResponseReturnValue:
    org = load_org_for(slug, "people.invite")
    form = _invite_form(org)
    if not form.validate_on_submit():
        return _invite_page(org, form, status=422)
    try:
        with attempt(form) as sent:
            outcomes = sending.send_invitations(org, current_user, *_request_args(org, form),
                                                commit=db.session.commit,
                                                access_until=end_of(form.access_until.data))
    except IntegrityError:  # the same address invited by someone else at the same moment
        db.session.rollback()
        form.form_errors.append("One of these addresses was invited at the same moment. Send again.")
        return _invite_page(org, form, status=409)
    if not sent:
        return _invite_page(org, form, status=422)
    session[OUTCOMES_KEY] = [(o.address[:254], o.kind, o.detail[:300]) for o in outcomes]
    return redirect(url_for("invitations.new", slug=org.slug, group=request.args.get("group", type=int)))


def _preview(org: Organization, form: InviteForm) -> Message:
    """The email the form would send; what the form may not choose falls back to defaults."""
    role = form.role.data if form.role.data in form.allowed_roles else Role.MEMBER
    group_ids = [gid for gid in (form.groups.data or []) if gid in form.allowed_groups]
    return messages.preview_message(
        org, current_user, form.addresses.data or "", role, load_groups(org, group_ids),
        form.message.data or "",
    )


@bp.route("/o/<slug>/invitations/preview", methods=["POST"])
@login_required
def preview(slug: str) -> ResponseReturnValue:
    """The exact email, before sending: a fragment for htmx, the form page without JS."""
    org = load_org_for(slug, "people.invite")
    form = _invite_form(org)
    form.validate()  # errors shown beside the fields; the preview renders what it can
    message = _preview(org, form)
    if is_htmx():
        return fragment("invitations/_preview.html", preview=message, open=True, org=org,
                        frame_fields=_frame_fields(form))
    return _invite_page(org, form, preview=message)


def _frame_fields(form: InviteForm) -> list[tuple[str, str | int]]:
    """What the preview frame's own form posts to ``preview_html`` (the HTML body does
    not name the recipient, so the addresses are not needed)."""
    fields = [("role", form.role.data or ""), ("message", form.message.data or "")]
    return fields + [("groups", gid) for gid in form.groups.data or []]


@bp.route("/o/<slug>/invitations/preview.html", methods=["POST"])
@login_required
def preview_html(slug: str) -> ResponseReturnValue:
    """The preview's HTML version, loaded into a sandboxed frame by a form that targets
    it, and served with the mail's own CSP so its inline styles apply (a ``srcdoc`` frame
    would inherit the page's strict CSP). A POST, as a message can be long."""
    org = load_org_for(slug, "people.invite")
    form = _invite_form(org, formdata=request.form)
    return mail_html_response(_preview(org, form).html or "")  # build_message always sets html


@bp.route("/o/<slug>/invitations/people")
@login_required
def people(slug: str) -> ResponseReturnValue:
    """Autocomplete for the "To" field: this organization's members only."""
    org = load_org_for(slug, "people.invite")
    matches = queries.search_members(org, current_user, request.args.get("person", ""))
    return render_template(
        "invitations/_people.html", matches=matches, query=request.args.get("person", ""),
        show_email=policy.role_of(current_user, org) in policy.STAFF,
    )


# --- Answering from the bell and the dashboard (F10, F15) -------------------------------

def _answer_inline(invitation_id: int, accept: bool) -> Response:
    invitation = load_own_invitation(current_user, invitation_id)
    if EmptyForm().validate_on_submit():
        try:
            if accept:
                answering.accept_invitation(invitation, current_user)
            else:
                answering.decline_invitation(invitation, current_user)
        except answering.InvitationUnavailable as error:
            db.session.rollback()
            flash(error.message, "error")
        except NoFreeSeat:
            return put_on_waiting_list(invitation.org, invitation=invitation)
        except IntegrityError:
            db.session.rollback()
            flash(f"You are already a member of {invitation.org.name}.", "info")
        else:
            db.session.commit()
            answering.tell_inviter_by_mail(invitation)
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
    return redirect(url_for("home.dashboard"))


@bp.route("/invitations/<int:invitation_id>/accept", methods=["POST"])
@login_required
def accept_inline(invitation_id: int) -> ResponseReturnValue:
    return _answer_inline(invitation_id, accept=True)


@bp.route("/invitations/<int:invitation_id>/decline", methods=["POST"])
@login_required
def decline_inline(invitation_id: int) -> ResponseReturnValue:
    return _answer_inline(invitation_id, accept=False)
