"""Facts kept for one request only.

A dict stored in the request's WSGI environ lives exactly as long as the request: not in
``g``, which the tests' long-lived app context shares between requests. Outside a request
(mail, the command line) each call gets a fresh, empty dict, so nothing is remembered.
"""
from __future__ import annotations

from typing import Any

from flask import has_request_context, request


def memo(name: str) -> dict[Any, Any]:
    """This request's dict called ``name``."""
    if not has_request_context():
        return {}
    kept: dict[Any, Any] = request.environ.setdefault(f"invites.{name}", {})
    return kept
