"""The notifications page behind the bell (F15)."""
from flask import Blueprint, current_app, render_template
from flask_login import current_user, login_required

from invites.extensions import db
from invites.forms import EmptyForm
from invites.notifications import service
from invites.orgs.loaders import page_number

bp = Blueprint("notifications", __name__)


@bp.route("/notifications")
@login_required
def index():
    """Lists the user's notifications, newest first; those shown count as read from now
    on (the bell's number drops), but they stay listed, invitations still answerable."""
    page = service.page_of_notifications(current_user, page_number(), current_app.config["PAGE_SIZE"])
    unread_ids = {n.id for n in page.items if n.read_at is None}
    marked = service.mark_read(current_user, page.items)  # the bell on this page counts the rest
    body = render_template("notifications/index.html", page=page, unread_ids=unread_ids, form=EmptyForm())
    # Committed after rendering: a commit expires the loaded rows, and reloading them one
    # by one would cost a query per notification.
    if marked:
        db.session.commit()
    return body
