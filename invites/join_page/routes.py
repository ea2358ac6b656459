"""The Join Web Page panel and the public /join/<slug> (F13, premium)."""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user, login_required
from sqlalchemy.exc import IntegrityError

from invites import qr
from invites.accounts.service import confirm_to_come_in
from invites.extensions import db, limiter
from invites.forms import EmptyForm, choices
from invites.groups.models import Group
from invites.groups.loaders import load_groups
from invites.join_page import service
from invites.join_page.forms import JoinPageForm
from invites.join_page.models import JoinPage
from invites.mail.service import external_url
from invites.orgs.admission import welcome
from invites.orgs.loaders import load_org_for
from invites.orgs.models import Organization, Role
from invites.transaction import attempt


bp = Blueprint("join_page", __name__)


@bp.route("/o/<slug>/manage/join-page", methods=["GET", "POST"])
@login_required
def panel(slug: str) -> ResponseReturnValue:
    org = load_org_for(slug, "join_page.manage")
    if not org.is_premium:
        # F6: explain, offer nothing; a POST is refused by the server all the same.
        return render_template("join_page/panel.html", org=org, form=None), (403 if _posted() else 200)
    page = service.page_of(org)
    form = JoinPageForm(obj=page) if not _posted() else JoinPageForm()
    groups = db.session.scalars(db.select(Group).filter_by(org_id=org.id).order_by(Group.name)).all()
    form.groups.choices = choices([(g.id, g.name) for g in groups])
    if not _posted():
        form.groups.data = [g.id for g in page.groups]
        form.allowed_domains.data = "\n".join(page.domains)
        form.access_until.data = page.access_last_day
    status = 200
    if form.validate_on_submit():
        with attempt(form) as saved:
            changes = service.update_page(
                org, current_user, page, enabled=form.enabled.data, slug=form.slug.data,
                groups=load_groups(org, form.groups.data), allowed_domains=form.allowed_domains.data,
                access_until=form.access_until.data,
            )
        if not saved:
            page = service.page_of(org)
        else:
            flash("Join Web Page saved." if changes else "Nothing changed.", "success")
            return redirect(url_for("join_page.panel", slug=org.slug))
    if _posted():
        status = 422
    db.session.commit()  # the page row made on first visit
    return render_template(
        "join_page/panel.html", org=org, form=form, page=page,
        url=external_url("join_page.show", slug=page.slug),
    ), status


def _posted() -> bool:
    return request.method == "POST"


# --- The page's QR code (issue 19): SVG, PNG, a printable sheet, while the page is on -------

QR_TITLE = "QR code for the Join Web Page"


def _qr_address(slug: str) -> tuple[Organization, str]:
    """The organization and its page's public address (on PUBLIC_URL, as the panel shows
    it), for owners. 404, saying why, while the page is off (or the plan is not premium):
    the address answers "not available" then, so a code for it would mislead."""
    org = load_org_for(slug, "join_page.manage")
    page = db.session.scalar(db.select(JoinPage).filter_by(org_id=org.id))
    if page is None or not page.enabled or not org.is_premium:
        qr.refuse("The Join Web Page is off, so it has no QR code. Turn it on in this panel first.")
    return org, external_url("join_page.show", slug=page.slug)


@bp.route("/o/<slug>/manage/join-page/qr.svg")
@login_required
def qr_svg(slug: str) -> ResponseReturnValue:
    org, address = _qr_address(slug)
    return qr.image_response(address, "svg", f"{org.slug}-join-page-qr", QR_TITLE)


@bp.route("/o/<slug>/manage/join-page/qr.png")
@login_required
def qr_png(slug: str) -> ResponseReturnValue:
    org, address = _qr_address(slug)
    return qr.image_response(address, "png", f"{org.slug}-join-page-qr", QR_TITLE)


@bp.route("/o/<slug>/manage/join-page/qr/print")
@login_required
def qr_print(slug: str) -> ResponseReturnValue:
    org, address = _qr_address(slug)
    return qr.sheet_response(
        org.name, address, url_for("join_page.qr_svg", slug=org.slug), QR_TITLE,
        back=url_for("join_page.panel", slug=org.slug), back_label="Join Web Page",
    )


def _public(slug: str) -> JoinPage:
    page = service.public_page(slug)
    if page is None:
        abort(404, "This page is not available.")
    return page


@bp.route("/join/<slug>", methods=["GET"])
@limiter.limit("60 per minute")
def show(slug: str) -> ResponseReturnValue:
    page = _public(slug)
    refusal = None
    if current_user.is_authenticated:
        try:
            service.check_may_join(page, current_user)
        except service.JoinRefused as error:
            refusal = error
    return render_template("join_page/show.html", page=page, refusal=refusal, form=EmptyForm())


@bp.route("/join/<slug>", methods=["POST"])
@limiter.limit("10 per minute")
def join(slug: str) -> ResponseReturnValue:
    page = _public(slug)
    if not current_user.is_authenticated:
        return redirect(url_for("accounts.login", next=url_for("join_page.show", slug=page.slug)))
    if not EmptyForm().validate_on_submit():
        return redirect(url_for("join_page.show", slug=page.slug))
    try:
        service.join(page, current_user)
        db.session.commit()
    except service.JoinRefused as error:
        db.session.rollback()
        if error.reason == "unverified":
            confirm_to_come_in(current_user)
        return render_template("join_page/show.html", page=page, refusal=error, form=EmptyForm()), 403
    except IntegrityError:  # the same person pressing Join twice at the same moment
        db.session.rollback()
        flash(f"You are already a member of {page.org.name}.", "info")
        return redirect(url_for("orgs.show", slug=page.org.slug))
    flash(welcome(page.org, Role.LABELS[Role.MEMBER], page.groups), "success")
    return redirect(url_for("orgs.show", slug=page.org.slug))
