"""Domain errors raised by services, and the app's error pages."""
from __future__ import annotations

import re
from typing import TYPE_CHECKING

from flask import jsonify, render_template, request
from werkzeug.exceptions import HTTPException, SecurityError

from invites.extensions import db

if TYPE_CHECKING:
    from flask import Flask, Response
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
    401: "Send an organization API token: Authorization: Bearer <token>.",
    403: "You do not have permission to do this here. Ask an owner of the organization if you need access.",
    404: "There is nothing at this address. It may have been moved or deleted, or you may not have access.",
    405: "This address does not accept that kind of request.",
    422: "This could not be done.",
    413: "What you sent is larger than this server accepts.",
    429: "You have made too many requests in a short time. Wait a minute and try again.",
    500: "An unexpected error happened on our side. It has been logged; please try again.",
}


# The JSON API's paths (invites/api): errors there are JSON, never an HTML page.
API_PREFIX = "/api/"

# The error code of each HTTP status the API answers with, when no rule gave a finer one.
HTTP_CODES = {
    400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found",
    405: "method_not_allowed", 409: "conflict", 413: "too_large", 415: "unsupported_media_type",
    422: "invalid", 429: "rate_limited", 500: "server_error",
}


def is_api_request() -> bool:
    return request.path.startswith(API_PREFIX)


def json_error(status: int, message: str | None = None, code: str | None = None,
               field: str | None = None) -> tuple[Response, int]:
    """The API's error body: ``{"error": {"code", "message", "field"}}`` on ``status``."""
    body = {"code": code or HTTP_CODES.get(status, "error"),
            "message": message or EXPLANATIONS.get(status, TITLES.get(status, "Error")),
            "field": field}
    response = jsonify(error=body)
    if status == 401:  # RFC 6750: say how to authenticate
        response.headers["WWW-Authenticate"] = 'Bearer realm="invites"'
    return response, status


def api_status(error: DomainError) -> int:
    """The status of a refusal in the API: 401 for a token that opens nothing, 422 for a
    field's value, 409 for a state that forbids it (already accepted, no free seat...)."""
    if error.code == "unauthorized":
        return 401
    return 422 if error.field else 409


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


def refuse_unstorable_characters() -> ResponseReturnValue | None:
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
        # (The API's JSON bodies are checked by its schemas: invites/api/schemas.py.)
        return json_error(400, UNSTORABLE_MESSAGE) if is_api_request() else render_error(400, UNSTORABLE_MESSAGE)
    return None


def _json_http_error(error: HTTPException, status: int) -> ResponseReturnValue:
    """An HTTP error in the API: a request body or query that failed its schema (webargs
    puts the messages in ``error.data``) names its first field; 401 asks for a bearer token."""
    messages = getattr(error, "data", {}).get("messages") if getattr(error, "data", None) else None
    field, message = _first_message(messages) if messages else (None, None)
    if message is not None:
        return json_error(422, message, "invalid", field)
    return json_error(status, error.description if status in (401, 403, 429) else None)


def _first_message(messages: object, path: str = "") -> tuple[str | None, str | None]:
    """(field, message) of the first error in webargs' nested messages
    (``{"json": {"emails": {"3": ["Not a valid email address."]}}}``)."""
    if isinstance(messages, dict):
        for key, value in messages.items():
            if key in ("json", "query", "querystring", "path") and not path:
                return _first_message(value)
            return _first_message(value, f"{path}.{key}" if path else str(key))
    if isinstance(messages, list) and messages:
        if all(isinstance(item, str) for item in messages):
            # "_schema": marshmallow's name for the body as a whole (a list, null...).
            return (path if path and path != "_schema" else None), " ".join(messages)
        return _first_message(messages[0], path)
    if isinstance(messages, str):
        return path or None, messages
    return None, None


# Ids are 32-bit integer columns on PostgreSQL; SQLite cannot even bind an integer past
# 64 bits (an OverflowError, a 500), so a larger id in a path never reaches a query.
MAX_ID = 2**31 - 1


def has_id_out_of_range() -> bool:
    """Whether this request's path holds an id no row can have."""
    return any(isinstance(value, int) and value > MAX_ID for value in (request.view_args or {}).values())


def refuse_ids_out_of_range() -> ResponseReturnValue | None:
    """404 for a page whose path holds an id no row can have. (The API asks
    :func:`has_id_out_of_range` itself once the token is checked: ``invites.api.resources``.)"""
    if not is_api_request() and has_id_out_of_range():
        return render_error(404)
    return None


def register_error_handlers(app: Flask) -> None:
    app.before_request(refuse_unstorable_characters)
    app.before_request(refuse_ids_out_of_range)

    def handle_http(error: HTTPException) -> ResponseReturnValue:
        if isinstance(error, SecurityError):
            # A Host outside TRUSTED_HOSTS (F2): no URL can be built for this request,
            # so not even the layout renders; a plain answer says what is wrong.
            return "Bad request: this server does not answer for that host name.", 400, {
                "Content-Type": "text/plain; charset=utf-8"}
        code = error.code or 500
        if is_api_request():
            return _json_http_error(error, code)
        # A CSRF failure's description is useful to the user ("The CSRF token is missing").
        message = error.description if code == 400 and "CSRF" in str(error.description) else None
        return render_error(code, message)

    def handle_unexpected(error: Exception) -> ResponseReturnValue:
        app.logger.exception("Unhandled error on %s %s", request.method, request.path)
        # A failed write leaves the session refusing every query until it is rolled back,
        # and the layout reads the current user and the bell: roll back, or the error
        # page itself fails and Werkzeug's bare 500 is shown instead (F8).
        try:
            db.session.rollback()
        except Exception:  # a lost connection: the page may still render without it
            app.logger.exception("Rollback after the unhandled error failed")
        return json_error(500) if is_api_request() else render_error(500)

    def handle_domain_error(error: DomainError) -> ResponseReturnValue:
        # A refusal no route turned into a form error or a flash: nothing it began is kept.
        db.session.rollback()
        if is_api_request():
            return json_error(api_status(error), error.message, error.code, error.field)
        return render_error(422, error.message)

    app.register_error_handler(DomainError, handle_domain_error)
    app.register_error_handler(HTTPException, handle_http)
    app.register_error_handler(Exception, handle_unexpected)
