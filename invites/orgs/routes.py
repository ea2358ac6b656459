from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from invites import policy
from invites.errors import DomainError
from invites.extensions import db
from invites.forms import EmptyForm, unconfirmed
from invites.invitations.service import open_invitations_for
from invites.htmx import fragment_or_redirect, is_htmx, page_or_fragment
from invites.orgs import service
from invites.orgs.forms import OrganizationForm, PermissionsForm, RoleForm
from invites.orgs.loaders import load_membership, load_org, page_number
from invites.orgs.models import Membership, Role
from invites.orgs.panels import visible_panels

bp = Blueprint("orgs", __name__)

@bp.route("/")
def dashboard():
    if not current_user.is_authenticated:
        return render_template("orgs/welcome.html")
    memberships = service.memberships_of(current_user)
    return render_template(
        "orgs/dashboard.html", memberships=memberships, form=EmptyForm(),
        invitations=open_invitations_for(current_user),
    )


@bp.route("/orgs")
@login_required
def my_organizations():
    memberships = service.memberships_of(current_user)
    return render_template("orgs/my_organizations.html", memberships=memberships)


@bp.route("/orgs/new", methods=["GET", "POST"])
@login_required
def create():
    form = OrganizationForm()
    if form.validate_on_submit():
        try:
            org = service.create_organization(
                current_user, form.name.data, form.slug.data, form.description.data
            )
        except DomainError as error:
            db.session.rollback()
            error.apply_to(form)
        else:
            db.session.commit()
            flash(f"{org.name} is ready. You are its owner.", "success")
            return redirect(url_for("orgs.manage", slug=org.slug))
    return render_template("orgs/new.html", form=form)


@bp.route("/o/<slug>")
@login_required
def show(slug):
    org = load_org(slug)
    policy.require(current_user, "org.view", org)
    return render_template("orgs/show.html", org=org, form=EmptyForm())


@bp.route("/o/<slug>/manage")
@login_required
def manage(slug):
    org = load_org(slug)
    policy.require(current_user, "org.manage", org)
    return render_template("orgs/manage.html", org=org, panels=visible_panels(current_user, org))


@bp.route("/o/<slug>/manage/members")
@login_required
def members(slug):
    org = load_org(slug)
    policy.require(current_user, "members.view", org)
    search = request.args.get("q", "").strip()[:100]
    page = service.page_of_members(
        org, page_number(), current_app.config["PAGE_SIZE"], search=search or None
    )
    return page_or_fragment(
        "orgs/members.html", "orgs/_members_table.html",
        org=org, page=page, search=search, **_row_context(org),
    )


def _row_context(org):
    return {
        "role_choices": [(value, Role.LABELS[value]) for value in policy.assignable_roles(current_user, org)],
        "may_change_roles": policy.can(current_user, "members.change_role", org),
        "may_remove": policy.can(current_user, "members.remove", org),
        "form": EmptyForm(),
    }


@bp.route("/o/<slug>/members/<int:membership_id>/role", methods=["POST"])
@login_required
def change_role(slug, membership_id):
    org = load_org(slug)
    membership = load_membership(org, membership_id)
    policy.require(current_user, "members.change_role", org, membership)
    form = RoleForm()
    if form.validate_on_submit():
        try:
            service.change_role(org, current_user, membership, form.role.data)
        except DomainError as error:
            db.session.rollback()
            flash(error.message, "error")
        else:
            db.session.commit()
            policy.forget_roles(current_user)
            flash(f"{membership.user.name} is now {membership.role_label}.", "success")
    else:
        flash("Choose one of the listed roles.", "error")
    return _member_row_or_redirect(org, membership)


def _member_row_or_redirect(org, membership):
    if is_htmx() and not policy.can(current_user, "members.view", org):
        # The actor demoted themselves out of the panel: send them to the organization.
        response = fragment_or_redirect(None, url_for("orgs.show", slug=org.slug))
        response.headers["HX-Redirect"] = url_for("orgs.show", slug=org.slug)
        return response
    return fragment_or_redirect(
        "orgs/_member_row.html",
        url_for("orgs.members", slug=org.slug),
        org=org, m=membership, **_row_context(org),
    )


@bp.route("/o/<slug>/members/<int:membership_id>/remove", methods=["POST"])
@login_required
def remove_member(slug, membership_id):
    org = load_org(slug)
    membership = load_membership(org, membership_id)
    policy.require(current_user, "members.remove", org, membership)
    form = EmptyForm()
    if not form.validate_on_submit():
        return redirect(url_for("orgs.members", slug=org.slug))
    asking = unconfirmed(
        form,
        title=f"Remove {membership.user.name}?",
        message=f"{membership.user.name} will lose access to {org.name} and its groups.",
        action=url_for("orgs.remove_member", slug=org.slug, membership_id=membership.id),
        button="Remove",
        cancel=url_for("orgs.members", slug=org.slug),
    )
    if asking is not None:
        return asking
    name = membership.user.name
    try:
        service.remove_member(org, current_user, membership)
    except DomainError as error:
        db.session.rollback()
        flash(error.message, "error")
        return _member_row_or_redirect(org, membership)
    db.session.commit()
    flash(f"{name} was removed from {org.name}.", "success")
    return fragment_or_redirect(None, url_for("orgs.members", slug=org.slug))


@bp.route("/o/<slug>/leave", methods=["POST"])
@login_required
def leave(slug):
    org = load_org(slug)
    policy.require(current_user, "org.leave", org)
    form = EmptyForm()
    if not form.validate_on_submit():
        return redirect(url_for("orgs.show", slug=org.slug))
    membership = db.session.scalar(
        db.select(Membership).filter_by(org_id=org.id, user_id=current_user.id)
    )
    asking = unconfirmed(
        form,
        title=f"Leave {org.name}?",
        message="You will lose access to the organization and its groups.",
        action=url_for("orgs.leave", slug=org.slug),
        button="Leave",
        cancel=url_for("orgs.show", slug=org.slug),
    )
    if asking is not None:
        return asking
    try:
        service.leave_organization(org, membership)
    except DomainError as error:
        db.session.rollback()
        flash(error.message, "error")
        return redirect(url_for("orgs.show", slug=org.slug))
    db.session.commit()
    flash(f"You left {org.name}.", "info")
    return redirect(url_for("orgs.my_organizations"))


@bp.route("/o/<slug>/manage/permissions", methods=["GET", "POST"])
@login_required
def permissions(slug):
    org = load_org(slug)
    policy.require(current_user, "settings.edit", org)
    form = PermissionsForm(obj=org)
    if form.validate_on_submit():
        try:
            changes = service.update_permissions(
                org, current_user,
                managers_may_add_people=form.managers_may_add_people.data,
                members_may_add_people=form.members_may_add_people.data,
                require_group_on_invite=form.require_group_on_invite.data,
                invitation_lifetime_days=form.invitation_lifetime_days.data,
            )
        except DomainError as error:
            db.session.rollback()
            error.apply_to(form)
        else:
            db.session.commit()
            flash("Permissions saved." if changes else "Nothing changed.", "success")
            return redirect(url_for("orgs.permissions", slug=org.slug))
    return render_template("orgs/permissions.html", org=org, form=form)
