"""The convention of F18: an htmx request gets the fragment, a plain one the page."""
from typing import Any

from flask import make_response, redirect, render_template, request
from werkzeug.wrappers import Response


def is_htmx() -> bool:
    """True for an htmx request, but not for htmx restoring history (that wants a page)."""
    return (
        request.headers.get("HX-Request") == "true"
        and request.headers.get("HX-History-Restore-Request") != "true"
    )


def fragment(template: str | None, /, **context: Any) -> Response:
    """The fragment plus out-of-band flash messages, so htmx swaps show feedback too.

    ``template`` None gives an empty fragment (the swapped element disappears).
    """
    body = render_template(template, **context) if template else ""
    body += render_template("_flashes.html", oob=True)
    return make_response(body)


def page_or_fragment(page: str, partial: str, /, **context: Any) -> Response:
    """Render ``partial`` for htmx, else the full ``page`` (which includes the partial)."""
    if is_htmx():
        return fragment(partial, **context)
    return make_response(render_template(page, **context))


def fragment_or_redirect(partial: str | None, location: str, /, **context: Any) -> Response:
    """After an action: htmx swaps ``partial`` in place; a plain POST is redirected."""
    if is_htmx():
        return fragment(partial, **context)
    return redirect(location)


def whole_page_redirect(location: str) -> Response:
    """Leave for another page: htmx is told to load it whole (``HX-Redirect`` on a 204),
    rather than swap it into the element that asked; a plain request is redirected."""
    if is_htmx():
        response = make_response("", 204)
        response.headers["HX-Redirect"] = location
        return response
    return redirect(location)


def add_vary_header(response: Response) -> Response:
    response.vary.add("HX-Request")
    return response
