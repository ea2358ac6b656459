from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user, login_required
from werkzeug.wrappers import Response

from invites import policy
from invites.extensions import db
from invites.forms import EmptyForm, confirm_first
from invites.htmx import fragment_or_redirect, is_htmx, page_or_fragment
from invites.orgs import overview, service
from invites.orgs.charts import overview_charts, way_css
from invites.orgs.forms import AccessForm, OrganizationForm, PermissionsForm, RoleForm
from invites.orgs.loaders import load_membership, load_org, load_org_for
from invites.pagination import page_number
from invites.orgs.models import JoinedVia, Membership, Organization, Role
from invites.times import show_day
from invites.transaction import attempt

bp = Blueprint("orgs", __name__)


@bp.route("/orgs")
@login_required
def my_organizations() -> ResponseReturnValue:
    memberships = service.memberships_of(current_user)
    return render_template("orgs/my_organizations.html", memberships=memberships)


@bp.route("/orgs/new", methods=["GET", "POST"])
@login_required
def create() -> ResponseReturnValue:
    form = OrganizationForm()
    if form.validate_on_submit():
        with attempt(form) as done:
            org = service.create_organization(
                current_user, form.name.data, form.slug.data, form.description.data
            )
        if done:
            flash(f"{org.name} is ready. You are its owner.", "success")
            return redirect(url_for("orgs.manage", slug=org.slug))
    return render_template("orgs/new.html", form=form)


@bp.route("/o/<slug>")
@login_required
def show(slug: str) -> ResponseReturnValue:
    """The Overview: for owners and managers what needs them now and how people came in;
    for members and collaborators their groups and what waits for them."""
    org = load_org_for(slug, "org.view")
    if not policy.can(current_user, "org.manage", org):
        return render_template("orgs/show.html", org=org, form=EmptyForm(),
                               mine=overview.member_overview(org, current_user))
    staff = overview.staff_overview(org)
    return render_template(
        "orgs/show.html", org=org, form=EmptyForm(), staff=staff, charts=overview_charts(staff),
        way_css=way_css, joined_via_label=JoinedVia.label, expiring_days=overview.EXPIRING_DAYS,
    )


@bp.route("/o/<slug>/manage")
@login_required
def manage(slug: str) -> ResponseReturnValue:
    """The Manage tab lands on the Overview, whose counts lead to the panels (the old
    landing page only repeated the Organization Settings list)."""
    org = load_org_for(slug, "org.manage")
    return redirect(url_for("orgs.show", slug=org.slug))


@bp.route("/o/<slug>/manage/members")
@login_required
def members(slug: str) -> ResponseReturnValue:
    org = load_org_for(slug, "members.view")
    search = request.args.get("q", "").strip()[:100]
    page = service.page_of_members(
        org, page_number(), current_app.config["PAGE_SIZE"], search=search or None
    )
    return page_or_fragment(
        "orgs/members.html", "orgs/_members_table.html",
        org=org, page=page, search=search, **_row_context(org),
    )


def _row_context(org: Organization) -> dict[str, Any]:
    return {
        "role_choices": [(value, Role.LABELS[value]) for value in policy.assignable_roles(current_user, org)],
        "may_change_roles": policy.can(current_user, "members.change_role", org),
        "may_remove": policy.can(current_user, "members.remove", org),
        "may_change_access": policy.can(current_user, "members.change_access", org),
        "form": EmptyForm(),
    }


def _load_member(slug: str, membership_id: int, action: str) -> tuple[Organization, Membership]:
    """The organization and one of its memberships, once the policy allows ``action`` on it
    (another organization's membership is a 404 before anything is asked)."""
    org = load_org(slug)
    membership = load_membership(org, membership_id)
    policy.require(current_user, action, org, membership)
    return org, membership


@bp.route("/o/<slug>/members/<int:membership_id>/role", methods=["POST"])
@login_required
def change_role(slug: str, membership_id: int) -> ResponseReturnValue:
    org, membership = _load_member(slug, membership_id, "members.change_role")
    form = RoleForm()
    if form.validate_on_submit():
        with attempt() as done:
            service.change_role(org, current_user, membership, form.role.data)
        if done:
            policy.forget_roles(current_user)
            flash(f"{membership.user.name} is now {membership.role_label}.", "success")
    else:
        flash("Choose one of the listed roles.", "error")
    return _member_row_or_redirect(org, membership)


@bp.route("/o/<slug>/members/<int:membership_id>/access", methods=["POST"])
@login_required
def change_access(slug: str, membership_id: int) -> ResponseReturnValue:
    """The last day of a member's access (issue 19), from their row: a date, or empty
    for access without an end."""
    org, membership = _load_member(slug, membership_id, "members.change_access")
    form = AccessForm()
    if form.validate_on_submit():
        with attempt() as done:
            changed = service.change_access(org, current_user, membership, form.access_until.data)
        if done and changed:
            day = membership.access_last_day
            flash(f"{membership.user.name}'s access ends at the end of {show_day(day)} (UTC)." if day
                  else f"{membership.user.name}'s access no longer ends.", "success")
    else:
        flash("Enter the last day of access as a date, or leave it empty for no end.", "error")
    return _member_row_or_redirect(org, membership)


def _member_row_or_redirect(org: Organization, membership: Membership) -> Response:
    if is_htmx() and not policy.can(current_user, "members.view", org):
        # The actor demoted themselves out of the panel: send them to the organization.
        response = fragment_or_redirect(None, url_for("orgs.show", slug=org.slug))
        response.headers["HX-Redirect"] = url_for("orgs.show", slug=org.slug)
        return response
    return fragment_or_redirect(
        "orgs/_one_member_row.html",
        url_for("orgs.members", slug=org.slug),
        org=org, m=membership, **_row_context(org),
    )


@bp.route("/o/<slug>/members/<int:membership_id>/remove", methods=["POST"])
@login_required
def remove_member(slug: str, membership_id: int) -> ResponseReturnValue:
    org, membership = _load_member(slug, membership_id, "members.remove")
    asking = confirm_first(
        title=f"Remove {membership.user.name}?",
        message=f"{membership.user.name} will lose access to {org.name} and its groups.",
        button="Remove", cancel=url_for("orgs.members", slug=org.slug),
    )
    if asking is not None:
        return asking
    name = membership.user.name
    with attempt() as done:
        service.remove_member(org, current_user, membership)
    if not done:
        return _member_row_or_redirect(org, membership)
    flash(f"{name} was removed from {org.name}.", "success")
    return fragment_or_redirect(None, url_for("orgs.members", slug=org.slug))


@bp.route("/o/<slug>/leave", methods=["POST"])
@login_required
def leave(slug: str) -> ResponseReturnValue:
    org = load_org_for(slug, "org.leave")
    asking = confirm_first(
        title=f"Leave {org.name}?",
        message="You will lose access to the organization and its groups.",
        button="Leave", cancel=url_for("orgs.show", slug=org.slug),
    )
    if asking is not None:
        return asking
    membership = db.session.scalar(
        db.select(Membership).filter_by(org_id=org.id, user_id=current_user.id)
    )
    with attempt() as done:
        service.leave_organization(org, membership)
    if not done:
        return redirect(url_for("orgs.show", slug=org.slug))
    flash(f"You left {org.name}.", "info")
    return redirect(url_for("orgs.my_organizations"))


@bp.route("/o/<slug>/manage/permissions", methods=["GET", "POST"])
@login_required
def permissions(slug: str) -> ResponseReturnValue:
    org = load_org_for(slug, "settings.edit")
    form = PermissionsForm(obj=org, reminder_days_before=org.reminder_days_before or 0)
    if form.validate_on_submit():
        with attempt(form) as done:
            changes = service.update_permissions(
                org, current_user,
                managers_may_add_people=form.managers_may_add_people.data,
                members_may_add_people=form.members_may_add_people.data,
                require_group_on_invite=form.require_group_on_invite.data,
                invitation_lifetime_days=form.invitation_lifetime_days.data,
                reminder_days_before=form.reminder_days_before.data or None,
                reminder_halfway=form.reminder_halfway.data,
                member_limit=form.member_limit.data,
            )
        if done:
            flash("Permissions saved." if changes else "Nothing changed.", "success")
            return redirect(url_for("orgs.permissions", slug=org.slug))
    return render_template("orgs/permissions.html", org=org, form=form)
