from collections.abc import Callable

from flask import Blueprint, current_app, flash, redirect, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user, login_required
from flask_sqlalchemy.pagination import Pagination
from werkzeug.wrappers import Response

from invites import policy
from invites.accounts.models import User
from invites.extensions import db
from invites.forms import EmptyForm, confirm_first
from invites.groups import service
from invites.groups.forms import AddGroupMemberForm, GroupForm
from invites.groups.loaders import load_group, load_user
from invites.groups.models import Group, GroupMember
from invites.htmx import fragment_or_redirect, page_or_fragment
from invites.invitations.queries import page_of_invitations
from invites.orgs.loaders import load_org, load_org_for
from invites.pagination import page_number
from invites.transaction import attempt
from invites.orgs.models import Organization

bp = Blueprint("groups", __name__, url_prefix="/o/<slug>/groups")


def _index_page(org: Organization, form: GroupForm, status: int = 200) -> Response:
    page = service.page_of_groups(org, page_number(), current_app.config["PAGE_SIZE"])
    response = page_or_fragment(
        "groups/index.html", "groups/_groups_table.html",
        org=org, page=page, form=form, may_manage=policy.can(current_user, "groups.manage", org),
    )
    response.status_code = status
    return response


@bp.route("", methods=["GET"])
@login_required
def index(slug: str) -> ResponseReturnValue:
    org = load_org_for(slug, "groups.view")
    return _index_page(org, GroupForm(formdata=None))


@bp.route("", methods=["POST"])
@login_required
def create(slug: str) -> ResponseReturnValue:
    org = load_org_for(slug, "groups.manage")
    form = GroupForm()
    if form.validate_on_submit():
        with attempt(form) as done:
            group = service.create_group(org, current_user, form.name.data, form.join_method.data,
                                         form.description.data)
        if done:
            flash(f"Group {group.name} created.", "success")
            return redirect(url_for("groups.show", slug=org.slug, group_id=group.id))
    return _index_page(org, form, status=422)


def _show_page(
    org: Organization, group: Group, form: GroupForm | None = None,
    add_form: AddGroupMemberForm | None = None, status: int = 200, *,
    members_page: int | None = None, invitations_page: int = 1,
    partial: str = "groups/_members_table.html",
) -> Response:
    per_page = current_app.config["PAGE_SIZE"]
    page = service.page_of_group_members(group, members_page or page_number(), per_page)
    response = page_or_fragment(
        "groups/show.html", partial,
        org=org, group=group, page=page,
        invitations=_group_invitations(org, group, invitations_page),
        form=form or GroupForm(formdata=None, obj=group),
        add_form=add_form or AddGroupMemberForm(formdata=None),
        button_form=EmptyForm(),
        may_manage=policy.can(current_user, "groups.manage", org),
        is_member=service.is_in_group(group, current_user),
    )
    response.status_code = status
    return response


def _group_invitations(org: Organization, group: Group, page: int) -> Pagination | None:
    """A page of the invitations that include ``group``, for whoever may manage them
    (staff and the group's managers, seed 004); None for everyone else."""
    if not policy.can(current_user, "invitations.manage", org, group):
        return None
    return page_of_invitations(org, page, current_app.config["PAGE_SIZE"], group_id=group.id)


@bp.route("/<int:group_id>", methods=["GET"])
@login_required
def show(slug: str, group_id: int) -> ResponseReturnValue:
    org = load_org_for(slug, "groups.view")
    return _show_page(org, load_group(org, group_id))


@bp.route("/<int:group_id>/invitations", methods=["GET"])
@login_required
def invitations(slug: str, group_id: int) -> ResponseReturnValue:
    """A page of the group's invitations: the list alone for htmx, else the group's page
    showing that page of the list (its members from their first page)."""
    org = load_org(slug)
    group = load_group(org, group_id)
    policy.require(current_user, "invitations.manage", org, group)
    return _show_page(org, group, members_page=1, invitations_page=page_number(),
                      partial="groups/_invitations.html")


@bp.route("/<int:group_id>", methods=["POST"])
@login_required
def update(slug: str, group_id: int) -> ResponseReturnValue:
    org = load_org(slug)
    group = load_group(org, group_id)
    policy.require(current_user, "groups.manage", org, group)
    form = GroupForm()
    if form.validate_on_submit():
        with attempt(form) as done:
            changes = service.update_group(org, current_user, group, form.name.data, form.join_method.data,
                                           form.description.data)
        if done:
            flash("Group saved." if changes else "Nothing changed.", "success")
            return redirect(url_for("groups.show", slug=org.slug, group_id=group.id))
    return _show_page(org, group, form=form, status=422)


@bp.route("/<int:group_id>/delete", methods=["POST"])
@login_required
def delete(slug: str, group_id: int) -> ResponseReturnValue:
    org = load_org(slug)
    group = load_group(org, group_id)
    policy.require(current_user, "groups.manage", org, group)
    asking = confirm_first(
        title=f"Delete the group {group.name}?",
        message="Its members stay in the organization; only the group goes.",
        button="Delete group", cancel=url_for("groups.show", slug=org.slug, group_id=group.id),
    )
    if asking is not None:
        return asking
    name = group.name
    service.delete_group(org, current_user, group)
    db.session.commit()
    flash(f"Group {name} deleted.", "success")
    return redirect(url_for("groups.index", slug=org.slug))


@bp.route("/<int:group_id>/members", methods=["POST"])
@login_required
def add_member(slug: str, group_id: int) -> ResponseReturnValue:
    org = load_org(slug)
    group = load_group(org, group_id)
    policy.require(current_user, "groups.manage", org, group)
    form = AddGroupMemberForm()
    if form.validate_on_submit():
        with attempt(form) as done:
            user = service.find_member(org, form.person.data)
            service.add_to_group(org, current_user, group, user, form.is_manager.data)
        if done:
            flash(f"{user.name} added to {group.name}.", "success")
            return redirect(url_for("groups.show", slug=org.slug, group_id=group.id))
    return _show_page(org, group, add_form=form, status=422)


def _member_action(
    slug: str, group_id: int, user_id: int, action: Callable[[Organization, Group, User], str],
    confirm: Callable[[Organization, Group, User], tuple[str, str, str]] | None = None,
) -> ResponseReturnValue:
    """Shared shape of the row buttons: load, authorize, (confirm,) act, answer row or
    redirect. ``confirm(org, group, user)`` gives the title and message of the page that
    asks first when JavaScript is off (with it, the button's hx-confirm asks)."""
    org = load_org(slug)
    group = load_group(org, group_id)
    policy.require(current_user, "groups.manage", org, group)
    user = load_user(org, user_id)
    back = url_for("groups.show", slug=org.slug, group_id=group.id)
    if confirm is not None:
        title, message, button = confirm(org, group, user)
        asking = confirm_first(title=title, message=message, button=button, cancel=back)
        if asking is not None:
            return asking
    if EmptyForm().validate_on_submit():
        with attempt() as done:
            message = action(org, group, user)
        if done:
            flash(message, "success")
    entry = db.session.get(GroupMember, (group.id, user.id))
    if entry is None:
        return fragment_or_redirect(None, back)
    return fragment_or_redirect(
        "groups/_one_member_row.html", back,
        org=org, group=group, entry=entry, button_form=EmptyForm(), may_manage=True,
    )


@bp.route("/<int:group_id>/members/<int:user_id>/remove", methods=["POST"])
@login_required
def remove_member(slug: str, group_id: int, user_id: int) -> ResponseReturnValue:
    def confirm(org: Organization, group: Group, user: User) -> tuple[str, str, str]:
        return (f"Remove {user.name} from {group.name}?",
                f"{user.name} stays a member of {org.name}; only this group's membership goes.",
                "Remove from group")

    def act(org: Organization, group: Group, user: User) -> str:
        service.remove_from_group(org, current_user, group, user)
        return f"{user.name} removed from {group.name}."

    return _member_action(slug, group_id, user_id, act, confirm)


@bp.route("/<int:group_id>/members/<int:user_id>/manager", methods=["POST"])
@login_required
def toggle_manager(slug: str, group_id: int, user_id: int) -> ResponseReturnValue:
    make_manager = request.form.get("is_manager") == "yes"

    def act(org: Organization, group: Group, user: User) -> str:
        service.set_group_manager(org, current_user, group, user, make_manager)
        return f"{user.name} is {'now' if make_manager else 'no longer'} a manager of {group.name}."

    return _member_action(slug, group_id, user_id, act)


def _self_service(
    slug: str, group_id: int, action: Callable[[Organization, Group], str], category: str = "success"
) -> ResponseReturnValue:
    """Join or leave a group oneself: ``action(org, group)`` returns the flash message."""
    org = load_org(slug)
    group = load_group(org, group_id)
    policy.require(current_user, "groups.view", org, group)
    if EmptyForm().validate_on_submit():
        with attempt() as done:
            message = action(org, group)
        if done:
            flash(message, category)
    return redirect(url_for("groups.show", slug=org.slug, group_id=group.id))


@bp.route("/<int:group_id>/join", methods=["POST"])
@login_required
def join(slug: str, group_id: int) -> ResponseReturnValue:
    def act(org: Organization, group: Group) -> str:
        service.join_open_group(org, current_user, group)
        return f"You joined {group.name}."

    return _self_service(slug, group_id, act)


@bp.route("/<int:group_id>/leave", methods=["POST"])
@login_required
def leave(slug: str, group_id: int) -> ResponseReturnValue:
    def act(org: Organization, group: Group) -> str:
        service.leave_group(org, current_user, group)
        return f"You left {group.name}."

    return _self_service(slug, group_id, act, category="info")
