"""The convention of F18: an htmx request gets the fragment, a plain one the page."""
from flask import make_response, redirect, render_template, request


def is_htmx():
    """True for an htmx request, but not for htmx restoring history (that wants a page)."""
    return (
        request.headers.get("HX-Request") == "true"
        and request.headers.get("HX-History-Restore-Request") != "true"
    )


def fragment(template, /, **context):
    """The fragment plus out-of-band flash messages, so htmx swaps show feedback too.

    ``template`` None gives an empty fragment (the swapped element disappears).
    """
    body = render_template(template, **context) if template else ""
    body += render_template("_flashes.html", oob=True)
    return make_response(body)


def page_or_fragment(page, partial, /, **context):
    """Render ``partial`` for htmx, else the full ``page`` (which includes the partial)."""
    if is_htmx():
        return fragment(partial, **context)
    return make_response(render_template(page, **context))


def fragment_or_redirect(partial, location, /, **context):
    """After an action: htmx swaps ``partial`` in place; a plain POST is redirected."""
    if is_htmx():
        return fragment(partial, **context)
    return redirect(location)


def add_vary_header(response):
    response.vary.add("HX-Request")
    return response
