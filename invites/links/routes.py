"""Invite links (F11): the Invite Links panel, "New Invite", a link's page, and the public
``/l/<token>`` that people follow. Following it (GET) changes nothing; joining is a POST.

The database finds a link by its token's hash and keeps the token itself only encrypted
(``tokens.ShareableTokenHolder``), so whoever may manage a link (``links.edit``) can copy
and share it again from its page at any time; nobody else is shown it.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from flask import Blueprint, current_app, flash, make_response, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user, login_required
from sqlalchemy.exc import IntegrityError
from werkzeug.wrappers import Response

from invites import policy, qr
from invites.accounts.service import confirm_to_come_in
from invites.extensions import db, limiter
from invites.forms import EmptyForm, choices, confirm_first
from invites.groups.models import Group
from invites.groups.forms import offer_roles_and_groups
from invites.htmx import fragment_or_redirect, page_or_fragment
from invites.invitations.public import abort_if_member, ask_for_new_invitation
from invites.join_requests.waiting import put_on_waiting_list
from invites.groups.loaders import load_groups
from invites.links import service
from invites.links.forms import LinkForm, ShareForm
from invites.links.loaders import load_link
from invites.links.models import Access, InviteLink
from invites.orgs.admission import welcome
from invites.orgs.loaders import load_org, load_org_for
from invites.orgs.seats import NoFreeSeat
from invites.pagination import page_number
from invites.transaction import attempt

if TYPE_CHECKING:
    from invites.orgs.models import Organization


bp = Blueprint("links", __name__)

UNAVAILABLE_STATUS = {"unknown": 404, "members_only": 403}
# Refusals of this account, not of the link: its page stays, saying the rule.
DOMAIN_RULES = ("domain", "unverified")

# The dead links whose page offers "Ask for a new invitation" (issue 18), and how the
# request names where it came from. A deleted link was withdrawn on purpose: no offer.
ASK_AGAIN = {"expired": "an expired invite link", "used_up": "a used-up invite link"}


# --- The panel and creating -----------------------------------------------------------

@bp.route("/o/<slug>/manage/links")
@login_required
def panel(slug: str) -> ResponseReturnValue:
    org = load_org_for(slug, "links.manage")
    page = service.page_of_links(org, page_number(), current_app.config["PAGE_SIZE"])
    return page_or_fragment("links/panel.html", "links/_table.html", org=org, page=page, form=EmptyForm(),
                            urls=service.addresses_of(page.items))


def _link_form(org: Organization, fresh: bool = False) -> LinkForm:
    form = LinkForm(formdata=None) if fresh else LinkForm()
    preset = request.args.get("group", type=int)
    offer_roles_and_groups(form, current_user, org, fresh=fresh, preset_group=preset)
    if not policy.can(current_user, "people.add_new", org):
        # F5: "Anyone with the link" is offered only to those who may add new people.
        form.access.choices = [c for c in form.access.choices if c.value == Access.MEMBERS]
    # Seed 001: a link may reach every group "links.create" allows: staff any, a member
    # the groups they are in (members-only then; the service refuses the rest).
    groups = db.session.scalars(db.select(Group).filter_by(org_id=org.id).order_by(Group.name))
    offered = [(g.id, g.name) for g in groups if policy.can(current_user, "links.create", org, g)]
    form.groups.choices = choices(offered)
    form.allowed_groups = [gid for gid, _ in offered]
    if fresh and preset in form.allowed_groups:
        form.groups.data = [preset]
    return form


def _new_page(org: Organization, form: LinkForm, status: int = 200) -> tuple[str, int]:
    return render_template("links/new.html", org=org, form=form,
                           preset_group=request.args.get("group", type=int)), status


@bp.route("/o/<slug>/links/new", methods=["GET"])
@login_required
def new(slug: str) -> ResponseReturnValue:
    org = load_org_for(slug, "links.create")
    return _new_page(org, _link_form(org, fresh=True))


@bp.route("/o/<slug>/links/new", methods=["POST"])
@login_required
@limiter.limit("30 per minute")
def create(slug: str) -> ResponseReturnValue:
    org = load_org_for(slug, "links.create")
    form = _link_form(org)
    if form.validate_on_submit():
        with attempt(form) as done:
            link, _ = service.create_link(
                org, current_user,
                expiration=form.expiration.data, custom_date=form.custom_date.data,
                access=form.access.data, role=form.role.data,
                groups=load_groups(org, form.groups.data or []), max_uses=form.max_uses.data,
                allowed_domains=form.allowed_domains.data, access_until=form.access_until.data,
            )
        if done:
            flash("Invite link created. Copy it or share it by email.", "success")
            return redirect(url_for("links.show", slug=org.slug, link_id=link.id))
    return _new_page(org, form, status=422)


# --- One link: show, share, delete -----------------------------------------------------

def _show_page(
    org: Organization, link: InviteLink, share_form: ShareForm | None = None,
    results: list[tuple[str, str | None]] | None = None, status: int = 200,
) -> tuple[str, int]:
    return render_template(
        "links/show.html", org=org, link=link, url=service.address_of(link),
        share_form=share_form or ShareForm(formdata=None), results=results, form=EmptyForm(),
    ), status


@bp.route("/o/<slug>/links/<int:link_id>")
@login_required
def show(slug: str, link_id: int) -> ResponseReturnValue:
    org = load_org(slug)
    link = load_link(org, link_id)
    policy.require(current_user, "links.edit", org, link)
    return _show_page(org, link)


@bp.route("/o/<slug>/links/<int:link_id>/share", methods=["POST"])
@login_required
@limiter.limit("10 per minute; 60 per hour")
def share(slug: str, link_id: int) -> ResponseReturnValue:
    org = load_org(slug)
    link = load_link(org, link_id)
    policy.require(current_user, "links.edit", org, link)
    form = ShareForm()
    if not form.validate_on_submit():
        return _show_page(org, link, share_form=form, status=422)
    with attempt(form) as done:
        results = service.share_link(org, current_user, link, form.addresses.data, form.note.data)
    if not done:
        return _show_page(org, link, share_form=form, status=422)
    return _show_page(org, link, results=results)


@bp.route("/o/<slug>/links/<int:link_id>/delete", methods=["POST"])
@login_required
def delete(slug: str, link_id: int) -> ResponseReturnValue:
    org = load_org(slug)
    link = load_link(org, link_id)
    policy.require(current_user, "links.edit", org, link)
    asking = confirm_first(
        title="Delete this invite link?",
        message="Nobody will be able to join with it any more. People who joined stay.",
        button="Delete link", cancel=url_for("links.show", slug=org.slug, link_id=link.id),
    )
    if asking is not None:
        return asking
    back = url_for("links.panel", slug=org.slug) if policy.can(current_user, "links.manage", org) \
        else url_for("orgs.show", slug=org.slug)
    with attempt(category="info") as done:
        service.delete_link(org, current_user, link)
    if done:
        flash("Invite link deleted.", "success")
    return fragment_or_redirect(None, back)


# --- One link's QR code (issue 19): SVG, PNG, a printable sheet ---------------------------

QR_TITLE = "QR code for the invite link"


def _qr_address(slug: str, link_id: int) -> tuple[Organization, InviteLink, str]:
    """The organization, the link and the address its page shows (``address_of``, on
    PUBLIC_URL), for whoever ``links.edit`` allows. 404, saying why, for a link that lets
    nobody in any more or whose address cannot be read back."""
    org = load_org(slug)
    link = load_link(org, link_id)
    policy.require(current_user, "links.edit", org, link)
    address = service.address_of(link)
    if address is None:
        why = (f"it is {link.state_label.lower()}" if link.state != "active"
               else "its address can't be shown again")
        qr.refuse(f"Invite link #{link.id} has no QR code: {why}.")
    return org, link, address


@bp.route("/o/<slug>/links/<int:link_id>/qr.svg")
@login_required
def qr_svg(slug: str, link_id: int) -> ResponseReturnValue:
    _, link, address = _qr_address(slug, link_id)
    return qr.image_response(address, "svg", f"invite-link-{link.id}-qr", QR_TITLE)


@bp.route("/o/<slug>/links/<int:link_id>/qr.png")
@login_required
def qr_png(slug: str, link_id: int) -> ResponseReturnValue:
    _, link, address = _qr_address(slug, link_id)
    return qr.image_response(address, "png", f"invite-link-{link.id}-qr", QR_TITLE)


@bp.route("/o/<slug>/links/<int:link_id>/qr/print")
@login_required
def qr_print(slug: str, link_id: int) -> ResponseReturnValue:
    org, link, address = _qr_address(slug, link_id)
    return qr.sheet_response(
        org.name, address, url_for("links.qr_svg", slug=org.slug, link_id=link.id), QR_TITLE,
        back=url_for("links.show", slug=org.slug, link_id=link.id), back_label=f"Invite link #{link.id}",
    )


# --- Following a link: /l/<token> ------------------------------------------------------

def _unavailable(error: service.LinkUnavailable, link: InviteLink | None) -> Response:
    """The page saying why the link does not work; for a member of its organization, the
    organization instead (a members-only link is never refused to a member)."""
    if link is not None:
        abort_if_member(link.org)
    return make_response(
        render_template("links/unavailable.html", reason=error.reason, message=error.message, link=link,
                        ask_again=error.reason in ASK_AGAIN, form=EmptyForm()),
        UNAVAILABLE_STATUS.get(error.reason, 410),
    )


def _dead_reason(link: InviteLink) -> str | None:
    """Why ``link`` lets nobody in any more (deleted, expired, used up), or None."""
    try:
        service.check_usable(link)
    except service.LinkUnavailable as error:
        return error.reason
    return None


@bp.route("/l/<token>")
@limiter.limit("30 per minute")
def follow(token: str) -> ResponseReturnValue:
    link = service.find_link(token)
    try:
        link = service.check_usable(link)
    except service.LinkUnavailable as error:
        return _unavailable(error, link)
    role = policy.role_of(current_user, link.org)
    refusal = None
    if current_user.is_authenticated:
        try:
            service.check_may_use(link, current_user, role is not None)
        except service.LinkUnavailable as error:
            if error.reason not in DOMAIN_RULES:
                return _unavailable(error, link)
            refusal = error
    return _follow_page(link, token, role, refusal)


def _follow_page(link: InviteLink, token: str, role: str | None,
                 refusal: service.LinkUnavailable | None = None, status: int = 200) -> tuple[str, int]:
    """The link's page; with ``refusal``, why this account may not use it (its email
    domain: the rule stated, and for an unconfirmed address a second press once confirmed)."""
    return render_template("links/follow.html", link=link, token=token, role=role, refusal=refusal,
                           form=EmptyForm()), status


@bp.route("/l/<token>/join", methods=["POST"])
@limiter.limit("10 per minute")
def join(token: str) -> ResponseReturnValue:
    link = service.find_link(token)
    if not EmptyForm().validate_on_submit():
        return redirect(url_for("links.follow", token=token))
    if not current_user.is_authenticated:
        return redirect(url_for("accounts.login", next=url_for("links.follow", token=token)))
    if link is None:
        return _unavailable(service.LinkUnavailable("unknown"), None)
    try:
        use = service.use_link(link, current_user)
        db.session.commit()
    except service.LinkUnavailable as error:
        db.session.rollback()
        if error.reason not in DOMAIN_RULES:
            return _unavailable(error, link)
        if error.reason == "unverified":
            confirm_to_come_in(current_user)
        return _follow_page(link, token, policy.role_of(current_user, link.org), error, status=403)
    except NoFreeSeat:
        return put_on_waiting_list(link.org, invite_link=link)
    except IntegrityError:  # the same person joining twice at the same moment
        db.session.rollback()
        return redirect(url_for("orgs.show", slug=link.org.slug))
    org = link.org
    if use.kind == "joined":
        flash(welcome(org, use.membership.role_label, use.groups), "success")
    elif use.kind == "groups_added":
        flash(welcome(org, None, use.groups), "success")
    else:
        flash(f"You are already a member of {org.name}" + (" and its groups." if link.groups else "."), "info")
    if len(use.groups) == 1:
        return redirect(url_for("groups.show", slug=org.slug, group_id=use.groups[0].id))
    return redirect(url_for("orgs.show", slug=org.slug))


@bp.route("/l/<token>/ask", methods=["POST"])
@limiter.limit("5 per minute; 30 per hour")
def ask_again(token: str) -> ResponseReturnValue:
    """"Ask for a new invitation" on an expired or used-up link's page. An unknown token
    answers 404; a link still usable, or deleted, has nothing to ask: back to its page."""
    link = service.find_link(token)
    if link is None:
        return _unavailable(service.LinkUnavailable("unknown"), None)
    return ask_for_new_invitation(link.org, ASK_AGAIN.get(_dead_reason(link) or ""),
                                  url_for("links.follow", token=token))
