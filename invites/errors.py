"""Domain errors raised by services, and the app's error pages."""
from flask import render_template, request
from werkzeug.exceptions import HTTPException


class DomainError(Exception):
    """A rule refused the operation. ``field`` names the form field it belongs to."""

    def __init__(self, message, field=None):
        super().__init__(message)
        self.message = message
        self.field = field

    def apply_to(self, form):
        """Show the error on ``form``: on its field when it has one, else on the form."""
        field = getattr(form, self.field, None) if self.field else None
        if field is not None:
            field.errors = list(field.errors) + [self.message]
        else:
            form.form_errors.append(self.message)


TITLES = {
    400: "Bad request",
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
    413: "What you sent is larger than this server accepts.",
    429: "You have made too many requests in a short time. Wait a minute and try again.",
    500: "An unexpected error happened on our side. It has been logged; please try again.",
}


def render_error(code, message=None):
    body = render_template(
        "errors/error.html",
        code=code,
        title=TITLES.get(code, "Error"),
        message=message or EXPLANATIONS.get(code, ""),
    )
    return body, code


def register_error_handlers(app):
    def handle_http(error):
        code = error.code or 500
        # A CSRF failure's description is useful to the user ("The CSRF token is missing").
        message = error.description if code == 400 and "CSRF" in str(error.description) else None
        return render_error(code, message)

    def handle_unexpected(error):
        app.logger.exception("Unhandled error on %s %s", request.method, request.path)
        return render_error(500)

    app.register_error_handler(HTTPException, handle_http)
    app.register_error_handler(Exception, handle_unexpected)
