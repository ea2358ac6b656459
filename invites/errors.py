"""Domain errors raised by services, and the app's error pages."""
from __future__ import annotations

import re
from typing import TYPE_CHECKING

from flask import render_template, request
from werkzeug.exceptions import HTTPException, SecurityError

from invites.extensions import db

if TYPE_CHECKING:
    from flask import Flask
    from flask.typing import ResponseReturnValue
    from flask_wtf import FlaskForm


class DomainError(Exception):
    """A rule refused the operation. ``field`` names the form field it belongs to;
    ``code`` is a stable machine-readable name for the refusal (the JSON API's error code):
    the class's ``code`` unless given, "invalid" for a field's error, else "refused"."""

    code = ""

    def __init__(self, message: str, field: str | None = None, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        self.code = code or type(self).code or ("invalid" if field else "refused")

    def apply_to(self, form: FlaskForm) -> None:
        """Show the error on ``form``: on its field when it has one, else on the form."""
        field = getattr(form, self.field, None) if self.field else None
        if field is not None:
            field.errors = list(field.errors) + [self.message]
        else:
            form.form_errors.append(self.message)


class Refusal(DomainError):
    """A refusal whose ``reason`` (also its code) picks the page that explains it; the
    message is the class's ``MESSAGES[reason]`` unless given."""

    MESSAGES: dict[str, str] = {}

    def __init__(self, reason: str, message: str | None = None) -> None:
        super().__init__(message or self.MESSAGES[reason], code=reason)
        self.reason = reason


TITLES = {
    400: "Bad request",
    422: "Not possible",
    403: "Not allowed",
    404: "Not found",
    405: "Method not allowed",
    413: "Too large",
    429: "Too many requests",
    500: "Something went wrong",
}

EXPLANATIONS = {
    400: "The request could not be understood. If you submitted a form, reload the page and try again.",
    403: "You do not have permission to do this here. Ask an owner of the organization if you need access.",
    404: "There is nothing at this address. It may have been moved or deleted, or you may not have access.",
    405: "This address does not accept that kind of request.",
    422: "This could not be done.",
    413: "What you sent is larger than this server accepts.",
    429: "You have made too many requests in a short time. Wait a minute and try again.",
    500: "An unexpected error happened on our side. It has been logged; please try again.",
}


def render_error(code: int, message: str | None = None) -> tuple[str, int]:
    body = render_template(
        "errors/error.html",
        code=code,
        title=TITLES.get(code, "Error"),
        message=message or EXPLANATIONS.get(code, ""),
    )
    return body, code


# What the database refuses to store or compare: PostgreSQL text cannot hold NUL, and a
# lone surrogate cannot be encoded to UTF-8. No form, link or browser sends them.
UNSTORABLE = re.compile(r"[\x00\ud800-\udfff]")
UNSTORABLE_MESSAGE = (
    "The request holds a character that is not allowed (a NUL byte, for instance). "
    "Remove it and try again."
)


def refuse_unstorable_characters() -> tuple[str, int] | None:
    """Answer 400 before any route runs when the path, a query argument, a form field (its
    name or value) or an uploaded file's name holds a character of ``UNSTORABLE``:
    otherwise it would reach a query and fail there as a 500 (security review F8). The
    contents of uploaded files are the import reader's to check."""
    texts = [request.path]
    for source in (request.args, request.form):
        for key, value in source.items(multi=True):
            texts += (key, value)
    for key, upload in request.files.items(multi=True):
        texts += (key, upload.filename or "")
    if any(UNSTORABLE.search(text) for text in texts):
        return render_error(400, UNSTORABLE_MESSAGE)
    return None


def register_error_handlers(app: Flask) -> None:
    app.before_request(refuse_unstorable_characters)

    def handle_http(error: HTTPException) -> ResponseReturnValue:
        if isinstance(error, SecurityError):
            # A Host outside TRUSTED_HOSTS (F2): no URL can be built for this request,
            # so not even the layout renders; a plain answer says what is wrong.
            return "Bad request: this server does not answer for that host name.", 400, {
                "Content-Type": "text/plain; charset=utf-8"}
        code = error.code or 500
        # A CSRF failure's description is useful to the user ("The CSRF token is missing").
        message = error.description if code == 400 and "CSRF" in str(error.description) else None
        return render_error(code, message)

    def handle_unexpected(error: Exception) -> tuple[str, int]:
        app.logger.exception("Unhandled error on %s %s", request.method, request.path)
        # A failed write leaves the session refusing every query until it is rolled back,
        # and the layout reads the current user and the bell: roll back, or the error
        # page itself fails and Werkzeug's bare 500 is shown instead (F8).
        try:
            db.session.rollback()
        except Exception:  # a lost connection: the page may still render without it
            app.logger.exception("Rollback after the unhandled error failed")
        return render_error(500)

    def handle_domain_error(error: DomainError) -> tuple[str, int]:
        # A refusal no route turned into a form error or a flash: nothing it began is kept.
        db.session.rollback()
        return render_error(422, error.message)

    app.register_error_handler(DomainError, handle_domain_error)
    app.register_error_handler(HTTPException, handle_http)
    app.register_error_handler(Exception, handle_unexpected)
