"""The notifications page behind the bell (F15)."""
from flask import Blueprint, current_app, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user, login_required

from invites.extensions import db
from invites.forms import EmptyForm
from invites.htmx import fragment, is_htmx
from invites.invitations.queries import card_loading
from invites.notifications import service
from invites.notifications.models import Notification
from invites.pagination import page_number

bp = Blueprint("notifications", __name__)


@bp.route("/notifications")
@login_required
def index() -> ResponseReturnValue:
    """Lists the user's notifications, newest first. Reading the page changes nothing:
    a notification counts as read once marked so (one, or all), or answered."""
    page = service.page_of_notifications(current_user, page_number(), current_app.config["PAGE_SIZE"],
                                         loading=card_loading(via=Notification.invitation))
    return render_template("notifications/index.html", page=page, form=EmptyForm())


@bp.route("/notifications/read", methods=["POST"])
@login_required
def mark_all_read() -> ResponseReturnValue:
    """"Mark all as read": every unread notification of this account."""
    if EmptyForm().validate_on_submit():
        service.mark_all_read(current_user)
        db.session.commit()
    return redirect(url_for("notifications.index", page=request.args.get("page", type=int)))


@bp.route("/notifications/<int:notification_id>/read", methods=["POST"])
@login_required
def mark_read(notification_id: int) -> ResponseReturnValue:
    """"Mark as read" on one notification of this account (404 for anyone else's)."""
    notification = service.load_own(current_user, notification_id)
    if EmptyForm().validate_on_submit():
        service.mark_read(current_user, notification)
        db.session.commit()
        db.session.refresh(notification)
    if is_htmx():
        response = fragment("notifications/_one_item.html", n=notification, form=EmptyForm())
        response.data += render_template("notifications/_bell.html", oob=True).encode()
        return response
    return redirect(url_for("notifications.index"))
