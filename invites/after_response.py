"""Work done once the response has gone out, in a thread of its own.

A public page that must answer the same whatever its input (Forgot your password?) can't
send mail for some inputs and not others while it answers: the time the answer takes would
tell an account's address from any other. Nor once the server has written the answer but
still holds the worker: gunicorn's sync worker closes the connection, and takes its next
request, only after closing the response, so a mail sent then still shows in when the
connection closes and in how long the next page waits.

:func:`after_response` starts the work in a thread when the server closes the response
(gunicorn and Werkzeug's server close every response after sending it), so the worker is
free at once. The thread has a fresh app context and database session, sends with
Flask-Mail as usual, and logs a failure: nobody is left to tell. It is not a daemon: a
worker that is stopped gracefully lets it finish.
"""
from __future__ import annotations

import threading
from collections.abc import Callable

from flask import Response, after_this_request, current_app

from invites.extensions import db


def after_response(work: Callable[[], None]) -> None:
    """Run ``work()`` after this request's response is sent (see the module docstring),
    once even if the response is closed twice. It commits what it did itself; anything it
    raises is logged and rolled back."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    started = threading.Event()

    def run() -> None:
        with app.app_context():
            try:
                work()
            except Exception:
                db.session.rollback()
                app.logger.exception("work after the response failed")

    def start() -> None:
        if not started.is_set():
            started.set()
            threading.Thread(target=run, name="after-response").start()

    @after_this_request
    def when_closed(response: Response) -> Response:
        response.call_on_close(start)
        return response
