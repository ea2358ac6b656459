"""What the login and register pages may know from the page they return to (``next``).

An invitation link's page knows the invited address: ``/login?next=/i/<token>`` opens with
it filled in, and "Create an account" goes to the invitation's own registration. The
concept that owns the page registers a hint for its endpoint, so accounts imports nothing
of it. A hint reveals only what the link's holder already knows, never whether an account
exists: the pages look the same either way.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Mapping
from urllib.parse import urlsplit

from flask import current_app, request
from werkzeug.exceptions import HTTPException
from werkzeug.routing.exceptions import RoutingException


@dataclass(frozen=True)
class ReturnHint:
    email: str  # the address to fill in
    register_url: str | None = None  # where to create the account instead of /register
    note: str | None = None  # a line under the heading: what logging in is for


Hinter = Callable[[Mapping[str, Any]], "ReturnHint | None"]
_hinters: dict[str, Hinter] = {}


def hint_for_endpoint(endpoint: str) -> Callable[[Hinter], Hinter]:
    """Decorator: ``hinter(view_args)`` answers for ``next`` paths routed to ``endpoint``."""

    def register(hinter: Hinter) -> Hinter:
        _hinters[endpoint] = hinter
        return hinter

    return register


def hint_for(target: str | None) -> ReturnHint | None:
    """The hint of the page ``target`` (a local path, already checked by ``safe_next``)."""
    if not target or not _hinters:
        return None
    adapter = current_app.create_url_adapter(request)
    if adapter is None:
        return None
    try:
        endpoint, args = adapter.match(urlsplit(target).path, method="GET")
    except (HTTPException, RoutingException):
        return None
    hinter = _hinters.get(str(endpoint))
    return hinter(args) if hinter else None
