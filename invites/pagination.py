"""Pagination for every list page: a page of rows and a count that stops looking a few
pages past the current one, read by one query.

A plain ``COUNT(*)`` reads every matching row, so a list page got slower as its table grew
(12 ms of the invitations page at 100,000 rows went to the count alone). Counting at most
``LOOKAHEAD_PAGES`` pages ahead costs the same at 100 rows and at 1,000,000; the total is
exact whenever it is below that bound, and otherwise the page says "more than".

The bounded count rides along with the page's rows as one more column (a scalar
subquery), so a list costs one round trip, not two. Only a page past the end, which has
no row to carry it, counts on its own.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import request
from flask_sqlalchemy.pagination import Pagination
from sqlalchemy import ScalarSelect, Select, func, select
from sqlalchemy.orm import lazyload

from invites.extensions import db

LOOKAHEAD_PAGES = 20


class Page(Pagination):
    """Flask-SQLAlchemy's ``Pagination`` (``items``, ``total``, ``pages``, ``iter_pages``…)
    filled by :func:`paginate`'s single query, with ``total_is_exact`` saying whether the
    total is below the counting bound."""

    total_is_exact: bool
    carried: dict[str, Any]

    def _query_items(self) -> list[Any]:
        items: list[Any] = self._query_args["items"]
        return items

    def _query_count(self) -> int:
        total: int = self._query_args["total"]
        return total


def paginate(
    query: Select[Any], page: int, per_page: int, carry: Mapping[str, ScalarSelect[Any]] | None = None,
    count_of: Select[Any] | None = None,
) -> Page:
    """One page of ``query``'s results (a single-entity select), with ``total`` bounded as
    above. ``carry`` names scalar subqueries that the page needs besides its rows (the
    Invitations panel's version, say): they ride along in the same query and come back in
    the page's ``carried`` dict. ``count_of``: the rows to count, when ``query`` holds only
    those up to its page's end (``orgs.service``'s gathered search)."""
    page, per_page = max(page, 1), max(per_page, 1)
    bound = (page + LOOKAHEAD_PAGES) * per_page
    counted = _bounded_count(query if count_of is None else count_of, bound).scalar_subquery()
    extras = list((carry or {}).items())
    rows = db.session.execute(
        query.add_columns(counted.label("bounded_total"), *(value.label(name) for name, value in extras))
        .limit(per_page).offset((page - 1) * per_page)
    ).unique().all()
    if rows:
        first = tuple(rows[0])[1:]
    elif page == 1 and not extras:
        first = (0,)  # nothing at all: no count needed
    else:  # no row to carry them: past the end, or an empty first page with extras
        first = tuple(db.session.execute(select(counted, *(value for _, value in extras))).one())
    total = first[0]
    result = Page(page=page, per_page=per_page, error_out=False, max_per_page=None,
                  items=[row[0] for row in rows], total=min(total, bound))
    result.total_is_exact = total <= bound
    result.carried = {name: value for (name, _), value in zip(extras, first[1:])}
    return result


def _bounded_count(query: Select[Any], bound: int) -> Select[Any]:
    """``SELECT count(*)`` of at most ``bound + 1`` of ``query``'s rows."""
    rows = query.options(lazyload("*")).order_by(None).limit(bound + 1).subquery()
    return select(func.count()).select_from(rows)


# Far past any list's end, and small enough that the OFFSET it makes fits the databases'
# 64-bit integers (a page of 10**20 was a 500).
MAX_PAGE = 10**6


def page_number() -> int:
    """The ``page`` query argument as a positive int (bad values mean page 1, and a page
    past ``MAX_PAGE`` is that page: an empty one)."""
    return min(max(request.args.get("page", 1, type=int) or 1, 1), MAX_PAGE)
