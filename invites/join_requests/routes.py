"""Join Request Links and Join Requests panels, and the public ``/r/<token>`` where people
ask to join (F12). Following the link (GET) changes nothing; requesting is a POST."""
from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from flask import Blueprint, current_app, flash, make_response, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user, login_required
from sqlalchemy.exc import IntegrityError
from werkzeug.wrappers import Response

from invites import policy
from invites.errors import DomainError
from invites.extensions import db, limiter
from invites.forms import EmptyForm, choices, confirm_first
from invites.groups.models import Group
from invites.htmx import fragment_or_redirect, page_or_fragment
from invites.groups.loaders import load_groups
from invites.join_requests import service
from invites.join_requests.forms import JoinLinkForm, RequestForm
from invites.join_requests.loaders import load_join_link, load_join_request
from invites.join_requests.models import JoinLink, RequestStatus
from invites.orgs.loaders import load_org, load_org_for
from invites.pagination import page_number
from invites.transaction import attempt

if TYPE_CHECKING:
    from invites.accounts.models import User
    from invites.orgs.models import Organization


bp = Blueprint("join_requests", __name__)

REFUSED_STATUS = {"unknown": 404, "inactive": 410}


# --- Join Request Links panel, create, edit ----------------------------------------------

@bp.route("/o/<slug>/manage/join-links")
@login_required
def links_panel(slug: str) -> ResponseReturnValue:
    org = load_org_for(slug, "join_requests.manage")
    page = service.page_of_join_links(org, page_number(), current_app.config["PAGE_SIZE"])
    return render_template("join_requests/links_panel.html", org=org, page=page,
                           urls={link.id: url for link in page.items if (url := service.address_of(link))})


def _link_form(org: Organization, link: JoinLink | None = None) -> JoinLinkForm:
    """The form with this organization's groups and owners/managers as choices. On a
    POST, "Add" and "Remove" change the chosen groups and the form is shown again."""
    form = JoinLinkForm(obj=link) if request.method == "GET" and link else JoinLinkForm()
    groups = db.session.scalars(db.select(Group).filter_by(org_id=org.id).order_by(Group.name)).all()
    form.groups.choices = choices([(g.id, g.name) for g in groups])
    form.recipients.choices = choices([(u.id, u.name) for u in service.staff_of(org)])
    if request.method == "GET":
        form.groups.data = [g.id for g in link.groups] if link else []
        form.recipients.data = [u.id for u in link.recipients] if link else []
    chosen = [gid for gid in form.groups.data or [] if gid in {g.id for g in groups}]
    if request.method == "POST":
        if "add_group" in request.form:
            add = request.form.get("group_to_add", type=int)
            if add in {g.id for g in groups} and add not in chosen:
                chosen.append(add)
        remove = request.form.get("remove_group", type=int)
        if remove is not None:
            chosen = [gid for gid in chosen if gid != remove]
    form.groups.data = chosen
    form.chosen_groups = [g for g in groups if g.id in chosen]
    form.group_to_add.choices = choices([("", "Select an existing group…")] + [(str(g.id), g.name) for g in groups if g.id not in chosen])
    return form


def _editing_groups() -> bool:
    return "add_group" in request.form or "remove_group" in request.form


def _settings(
    org: Organization, form: JoinLinkForm
) -> tuple[str | None, str, Sequence[Group], str, list[User]]:
    """The form's settings, in the order create_join_link and update_join_link take them."""
    return (form.description.data, form.role.data, load_groups(org, form.groups.data),
            form.notify.data, _recipients(org, form.recipients.data))


def _recipients(org: Organization, ids: Sequence[int] | None) -> list[User]:
    wanted = set(ids or [])
    return [u for u in service.staff_of(org) if u.id in wanted]


def _link_page(
    org: Organization, form: JoinLinkForm, link: JoinLink | None = None, status: int = 200
) -> tuple[str, int]:
    return render_template(
        "join_requests/link_form.html", org=org, form=form, link=link,
        url=service.address_of(link) if link is not None else None,
    ), status


@bp.route("/o/<slug>/join-links/new", methods=["GET", "POST"])
@login_required
def new_link(slug: str) -> ResponseReturnValue:
    org = load_org_for(slug, "join_requests.manage")
    form = _link_form(org)
    if request.method == "POST" and not _editing_groups() and form.validate_on_submit():
        with attempt(form) as saved:
            link, _ = service.create_join_link(org, current_user, *_settings(org, form))
        if saved:
            flash("Join request link created. Copy it and share it.", "success")
            return redirect(url_for("join_requests.edit_link", slug=org.slug, link_id=link.id))
        return _link_page(org, form, status=422)
    return _link_page(org, form, status=422 if request.method == "POST" and form.errors else 200)


@bp.route("/o/<slug>/join-links/<int:link_id>", methods=["GET", "POST"])
@login_required
def edit_link(slug: str, link_id: int) -> ResponseReturnValue:
    org = load_org(slug)
    link = load_join_link(org, link_id)
    policy.require(current_user, "join_requests.manage", org, link)
    form = _link_form(org, link)
    if request.method == "POST" and not _editing_groups() and form.validate_on_submit():
        with attempt(form) as saved:
            service.update_join_link(
                org, current_user, link, *_settings(org, form), active=form.active.data
            )
        if saved:
            flash("Link saved.", "success")
            return redirect(url_for("join_requests.edit_link", slug=org.slug, link_id=link.id))
        return _link_page(org, form, link, status=422)
    return _link_page(org, form, link, status=422 if request.method == "POST" and form.errors else 200)


# --- Join Requests panel and decisions ---------------------------------------------------

@bp.route("/o/<slug>/manage/join-requests")
@login_required
def panel(slug: str) -> ResponseReturnValue:
    org = load_org_for(slug, "join_requests.manage")
    status = request.args.get("status", RequestStatus.PENDING)
    status = status if status in service.FILTERS or status == "all" else RequestStatus.PENDING
    page = service.page_of_requests(org, page_number(), current_app.config["PAGE_SIZE"], status)
    return page_or_fragment(
        "join_requests/panel.html", "join_requests/_table.html",
        org=org, page=page, status=status, form=EmptyForm(),
        filters=[(s, RequestStatus.LABELS[s]) for s in service.FILTERS] + [("all", "All")],
    )


DECISIONS = {
    "accept": ("Accept", service.accept_request, "{name} is now a member of {org}.",
               "{name} becomes a member of {org} with the link's role and groups."),
    "reject": ("Reject", service.reject_request, "{name}'s request was rejected.",
               "{name} is told the request was not accepted and cannot ask again."),
    "dismiss": ("Dismiss", service.dismiss_request, "{name}'s request was dismissed.",
                "The request is deleted without an answer; {name} may ask again."),
}


@bp.route("/o/<slug>/join-requests/<int:request_id>/<any(accept, reject, dismiss):decision>", methods=["POST"])
@login_required
def decide(slug: str, request_id: int, decision: str) -> ResponseReturnValue:
    org = load_org(slug)
    join_request = load_join_request(org, request_id)
    policy.require(current_user, "join_requests.manage", org, join_request)
    back = url_for("join_requests.panel", slug=org.slug)
    button, act, done, explain = DECISIONS[decision]
    name = join_request.user.name
    asking = confirm_first(
        title=f"{button} {name}'s request?", message=explain.format(name=name, org=org.name),
        button=button, cancel=back,
    )
    if asking is not None:
        return asking
    try:
        act(org, current_user, join_request)
        db.session.commit()
    except DomainError as error:
        db.session.rollback()
        flash(error.message, "info")
    except IntegrityError:  # accepted at the same moment by someone else
        db.session.rollback()
        flash(f"{name} is already a member.", "info")
    else:
        flash(done.format(name=name, org=org.name), "success")
        if decision != "dismiss":
            service.mail_decision(join_request)
            db.session.commit()
    if decision == "dismiss" or db.session.get(type(join_request), request_id) is None:
        return fragment_or_redirect(None, back)
    return fragment_or_redirect(
        "join_requests/_one_row.html", back, org=org, join_request=join_request, form=EmptyForm(),
    )


# --- The public link: /r/<token> -------------------------------------------------------

def _refused(error: service.RequestRefused, link: JoinLink | None) -> Response:
    return make_response(
        render_template("join_requests/refused.html", reason=error.reason, message=error.message, link=link),
        REFUSED_STATUS.get(error.reason, 200),
    )


@bp.route("/r/<token>", methods=["GET"])
@limiter.limit("30 per minute")
def follow(token: str) -> ResponseReturnValue:
    link = service.find_join_link(token)
    if link is None or not link.active:
        return _refused(service.RequestRefused("unknown" if link is None else "inactive"), link)
    if current_user.is_authenticated:
        try:
            service.check_may_request(link, current_user)
        except service.RequestRefused as error:
            return _refused(error, link)
    return render_template("join_requests/follow.html", link=link, token=token, form=RequestForm())


@bp.route("/r/<token>", methods=["POST"])
@limiter.limit("10 per minute")
def ask(token: str) -> ResponseReturnValue:
    link = service.find_join_link(token)
    if not current_user.is_authenticated:
        return redirect(url_for("accounts.login", next=url_for("join_requests.follow", token=token)))
    if link is None:  # before the form: its error page would need the link (it was a 500)
        return _refused(service.RequestRefused("unknown"), None)
    form = RequestForm()
    if not form.validate_on_submit():
        return render_template("join_requests/follow.html", link=link, token=token, form=form), 422
    try:
        join_request = service.request_to_join(link, current_user, form.message.data)
        db.session.commit()
    except service.RequestRefused as error:
        db.session.rollback()
        return _refused(error, link)
    except IntegrityError:  # the same person asking twice at the same moment
        db.session.rollback()
        return _refused(service.RequestRefused("pending"), link)
    service.mail_new_request(join_request)
    db.session.commit()
    return render_template("join_requests/requested.html", link=link)
