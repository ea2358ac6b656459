from flask import Blueprint, current_app, flash, redirect, request, url_for
from flask_login import current_user, login_required

from invites import policy
from invites.errors import DomainError
from invites.extensions import db
from invites.forms import EmptyForm, unconfirmed
from invites.groups import service
from invites.groups.forms import AddGroupMemberForm, GroupForm
from invites.groups.loaders import load_group, load_user
from invites.groups.models import GroupMember
from invites.htmx import fragment_or_redirect, page_or_fragment
from invites.orgs.loaders import load_org, page_number

bp = Blueprint("groups", __name__, url_prefix="/o/<slug>/groups")
bp.before_request(login_required(lambda: None))


def _index_page(org, form, status=200):
    page = service.page_of_groups(org, page_number(), current_app.config["PAGE_SIZE"])
    response = page_or_fragment(
        "groups/index.html", "groups/_groups_table.html",
        org=org, page=page, form=form, may_manage=policy.can(current_user, "groups.manage", org),
    )
    response.status_code = status
    return response


@bp.route("", methods=["GET"])
def index(slug):
    org = load_org(slug)
    policy.require(current_user, "groups.view", org)
    return _index_page(org, GroupForm(formdata=None))


@bp.route("", methods=["POST"])
def create(slug):
    org = load_org(slug)
    policy.require(current_user, "groups.manage", org)
    form = GroupForm()
    if form.validate_on_submit():
        try:
            group = service.create_group(org, current_user, form.name.data, form.join_method.data)
        except DomainError as error:
            db.session.rollback()
            error.apply_to(form)
        else:
            db.session.commit()
            flash(f"Group {group.name} created.", "success")
            return redirect(url_for("groups.show", slug=org.slug, group_id=group.id))
    return _index_page(org, form, status=422)


def _show_page(org, group, form=None, add_form=None, status=200):
    page = service.page_of_group_members(group, page_number(), current_app.config["PAGE_SIZE"])
    response = page_or_fragment(
        "groups/show.html", "groups/_members_table.html",
        org=org, group=group, page=page,
        form=form or GroupForm(formdata=None, obj=group),
        add_form=add_form or AddGroupMemberForm(formdata=None),
        button_form=EmptyForm(),
        may_manage=policy.can(current_user, "groups.manage", org),
        is_member=service.is_in_group(group, current_user),
    )
    response.status_code = status
    return response


@bp.route("/<int:group_id>", methods=["GET"])
def show(slug, group_id):
    org = load_org(slug)
    policy.require(current_user, "groups.view", org)
    return _show_page(org, load_group(org, group_id))


@bp.route("/<int:group_id>", methods=["POST"])
def update(slug, group_id):
    org = load_org(slug)
    group = load_group(org, group_id)
    policy.require(current_user, "groups.manage", org, group)
    form = GroupForm()
    if form.validate_on_submit():
        try:
            changes = service.update_group(org, current_user, group, form.name.data, form.join_method.data)
        except DomainError as error:
            db.session.rollback()
            error.apply_to(form)
        else:
            db.session.commit()
            flash("Group saved." if changes else "Nothing changed.", "success")
            return redirect(url_for("groups.show", slug=org.slug, group_id=group.id))
    return _show_page(org, group, form=form, status=422)


@bp.route("/<int:group_id>/delete", methods=["POST"])
def delete(slug, group_id):
    org = load_org(slug)
    group = load_group(org, group_id)
    policy.require(current_user, "groups.manage", org, group)
    form = EmptyForm()
    if not form.validate_on_submit():
        return redirect(url_for("groups.show", slug=org.slug, group_id=group.id))
    asking = unconfirmed(
        form,
        title=f"Delete the group {group.name}?",
        message="Its members stay in the organization; only the group goes.",
        action=url_for("groups.delete", slug=org.slug, group_id=group.id),
        button="Delete group",
        cancel=url_for("groups.show", slug=org.slug, group_id=group.id),
    )
    if asking is not None:
        return asking
    name = group.name
    service.delete_group(org, current_user, group)
    db.session.commit()
    flash(f"Group {name} deleted.", "success")
    return redirect(url_for("groups.index", slug=org.slug))


@bp.route("/<int:group_id>/members", methods=["POST"])
def add_member(slug, group_id):
    org = load_org(slug)
    group = load_group(org, group_id)
    policy.require(current_user, "groups.manage", org, group)
    form = AddGroupMemberForm()
    if form.validate_on_submit():
        try:
            user = service.find_member(org, form.person.data)
            service.add_to_group(org, current_user, group, user, form.is_manager.data)
        except DomainError as error:
            db.session.rollback()
            error.apply_to(form)
        else:
            db.session.commit()
            flash(f"{user.name} added to {group.name}.", "success")
            return redirect(url_for("groups.show", slug=org.slug, group_id=group.id))
    return _show_page(org, group, add_form=form, status=422)


def _member_action(slug, group_id, user_id, action, confirm=None):
    """Shared shape of the row buttons: load, authorize, (confirm,) act, answer row or
    redirect. ``confirm(org, group, user)`` gives the title and message of the page that
    asks first when JavaScript is off (with it, the button's hx-confirm asks)."""
    org = load_org(slug)
    group = load_group(org, group_id)
    policy.require(current_user, "groups.manage", org, group)
    user = load_user(org, user_id)
    form = EmptyForm()
    if confirm is not None and form.validate_on_submit():
        title, message, button = confirm(org, group, user)
        asking = unconfirmed(
            form, title=title, message=message, button=button, action=request.path,
            cancel=url_for("groups.show", slug=org.slug, group_id=group.id),
        )
        if asking is not None:
            return asking
    if form.validate_on_submit():
        try:
            message = action(org, group, user)
        except DomainError as error:
            db.session.rollback()
            flash(error.message, "error")
        else:
            db.session.commit()
            flash(message, "success")
    back = url_for("groups.show", slug=org.slug, group_id=group.id)
    entry = db.session.get(GroupMember, (group.id, user.id))
    if entry is None:
        return fragment_or_redirect(None, back)
    return fragment_or_redirect(
        "groups/_member_row.html", back,
        org=org, group=group, entry=entry, button_form=EmptyForm(), may_manage=True,
    )


@bp.route("/<int:group_id>/members/<int:user_id>/remove", methods=["POST"])
def remove_member(slug, group_id, user_id):
    def confirm(org, group, user):
        return (f"Remove {user.name} from {group.name}?",
                f"{user.name} stays a member of {org.name}; only this group's membership goes.",
                "Remove from group")

    def act(org, group, user):
        service.remove_from_group(org, current_user, group, user)
        return f"{user.name} removed from {group.name}."

    return _member_action(slug, group_id, user_id, act, confirm)


@bp.route("/<int:group_id>/members/<int:user_id>/manager", methods=["POST"])
def toggle_manager(slug, group_id, user_id):
    make_manager = request.form.get("is_manager") == "yes"

    def act(org, group, user):
        service.set_group_manager(org, current_user, group, user, make_manager)
        return f"{user.name} is {'now' if make_manager else 'no longer'} a manager of {group.name}."

    return _member_action(slug, group_id, user_id, act)


def _self_service(slug, group_id, action, category="success"):
    """Join or leave a group oneself: ``action(org, group)`` returns the flash message."""
    org = load_org(slug)
    group = load_group(org, group_id)
    policy.require(current_user, "groups.view", org, group)
    if EmptyForm().validate_on_submit():
        try:
            message = action(org, group)
        except DomainError as error:
            db.session.rollback()
            flash(error.message, "error")
        else:
            db.session.commit()
            flash(message, category)
    return redirect(url_for("groups.show", slug=org.slug, group_id=group.id))


@bp.route("/<int:group_id>/join", methods=["POST"])
def join(slug, group_id):
    def act(org, group):
        service.join_open_group(org, current_user, group)
        return f"You joined {group.name}."

    return _self_service(slug, group_id, act)


@bp.route("/<int:group_id>/leave", methods=["POST"])
def leave(slug, group_id):
    def act(org, group):
        service.leave_group(org, current_user, group)
        return f"You left {group.name}."

    return _self_service(slug, group_id, act, category="info")
