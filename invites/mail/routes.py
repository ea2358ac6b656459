"""The development outbox (F17): messages kept when no MAIL_SERVER is set."""
import re

from flask import Blueprint, abort, current_app, make_response, render_template
from flask.typing import ResponseReturnValue
from flask.wrappers import Response
from markupsafe import Markup, escape

from invites.extensions import db
from invites.mail.models import OutboxMessage
from invites.pagination import page_number
from invites.pagination import paginate

bp = Blueprint("outbox", __name__, url_prefix="/dev/outbox")
URL_PATTERN = re.compile(r"https?://[^\s<>\"']+")


@bp.before_request
def only_in_development() -> None:
    if not (current_app.debug or current_app.config.get("DEV_OUTBOX_PAGE")):
        abort(404)


def linkify(text: str) -> Markup:
    """Escape the text, then make every URL in it a link."""
    escaped = str(escape(text))
    return Markup(URL_PATTERN.sub(lambda m: f'<a href="{m.group(0)}">{m.group(0)}</a>', escaped))


@bp.route("")
def index() -> ResponseReturnValue:
    page = paginate(db.select(OutboxMessage).order_by(OutboxMessage.id.desc()), page_number(), 20)
    return render_template("mail/outbox.html", page=page, linkify=linkify)


@bp.route("/<int:message_id>/html")
def html(message_id: int) -> ResponseReturnValue:
    message = db.get_or_404(OutboxMessage, message_id)
    return mail_html_response(message.html_body)


def mail_html_response(html_body: str) -> Response:
    """A mail's HTML as its own page, framable by our pages only. Mail HTML carries
    inline styles; this allows those here, and nothing else (no scripts, no requests)."""
    response = make_response(html_body)
    response.headers["Content-Security-Policy"] = (
        "default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'self'"
    )
    response.headers["X-Frame-Options"] = "SAMEORIGIN"
    return response
