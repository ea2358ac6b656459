"""Pagination for every list page: Flask-SQLAlchemy's, with a count that stops looking a
few pages past the current one.

A plain ``COUNT(*)`` reads every matching row, so a list page got slower as its table grew
(12 ms of the invitations page at 100,000 rows went to the count alone). Counting at most
``LOOKAHEAD_PAGES`` pages ahead costs the same at 100 rows and at 1,000,000; the total is
exact whenever it is below that bound, and otherwise the page says "more than".
"""
from __future__ import annotations

from typing import Any

from flask import request
from flask_sqlalchemy.pagination import Pagination
from sqlalchemy import Select, func, select
from sqlalchemy.orm import lazyload

from invites.extensions import db

LOOKAHEAD_PAGES = 20


def paginate(query: Select[Any], page: int, per_page: int) -> Pagination:
    """One page of ``query``'s results (a Flask-SQLAlchemy ``Pagination``), with ``total``
    bounded as above and ``total_is_exact`` saying whether it was."""
    result = db.paginate(query, page=page, per_page=per_page, error_out=False, count=False)
    bound = (result.page + LOOKAHEAD_PAGES) * result.per_page
    rows = query.options(lazyload("*")).order_by(None).limit(bound + 1).subquery()
    counted = db.session.execute(select(func.count()).select_from(rows)).scalar_one()
    result.total = min(counted, bound)
    # An attribute of our own on Flask-SQLAlchemy's object (the list pages read it).
    result.total_is_exact = counted <= bound  # type: ignore[attr-defined]
    return result


def page_number() -> int:
    """The ``page`` query argument as a positive int (bad values mean page 1)."""
    return max(request.args.get("page", 1, type=int) or 1, 1)
