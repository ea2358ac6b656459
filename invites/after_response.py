"""Work done once the response has gone out.

A public page that must answer the same whatever its input (Forgot your password?) can't
send mail for some inputs and not others before it answers: the time the answer takes
would tell an account's address from any other. :func:`after_response` runs the work once
the server has written the response, when it closes it (gunicorn and Werkzeug's server
close every response after sending it), in a fresh app context and database session of
its own. The work is still synchronous, in the same worker; the client is no longer
waiting for it. A failure is logged: nobody is left to tell.
"""
from __future__ import annotations

from collections.abc import Callable

from flask import Response, after_this_request, current_app

from invites.extensions import db


def after_response(work: Callable[[], None]) -> None:
    """Run ``work()`` after this request's response is sent (see the module docstring). It
    commits what it did itself; anything it raises is logged and rolled back."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]

    def run() -> None:
        with app.app_context():
            try:
                work()
            except Exception:
                db.session.rollback()
                app.logger.exception("work after the response failed")

    @after_this_request
    def when_closed(response: Response) -> Response:
        response.call_on_close(run)
        return response
