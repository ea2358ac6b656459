"""Text searched as typed: ``%`` and ``_`` in a term are themselves, never LIKE's
wildcards. For a term bound when a statement runs (a statement built once), where
SQLAlchemy's ``contains(term, autoescape=True)``, which escapes a literal, cannot."""
from __future__ import annotations

ESCAPE = "/"  # as autoescape: LIKE ... ESCAPE '/'


def escape_like(term: str) -> str:
    """``term`` with LIKE's wildcards and ``ESCAPE`` itself escaped by ``ESCAPE``."""
    return term.replace(ESCAPE, ESCAPE * 2).replace("%", ESCAPE + "%").replace("_", ESCAPE + "_")


def containing(term: str) -> str:
    """The LIKE pattern (``ESCAPE``) of a text that contains ``term`` as typed."""
    return f"%{escape_like(term)}%"
