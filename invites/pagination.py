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
from dataclasses import dataclass
from typing import Any

from flask import request
from flask_sqlalchemy.pagination import Pagination
from sqlalchemy import Integer, ScalarSelect, Select, bindparam, func, select
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


@dataclass(frozen=True)
class PageQuery:
    """A list's statements for any of its pages, made by :func:`page_query`: ``rows``, the
    page's rows with the bounded count and the carried values as more columns (LIMIT
    ``:page_size`` OFFSET ``:page_start``), and ``totals``, the count and carried values
    alone, for a page with no row to carry them. The count stops at ``:page_count_limit``."""

    rows: Select[Any]
    totals: Select[Any]
    carried: tuple[str, ...]


def page_query(
    query: Select[Any], carry: Mapping[str, ScalarSelect[Any]] | None = None,
    count_of: Select[Any] | None = None,
) -> PageQuery:
    """The statements that page ``query`` (a single-entity select), whose page and size
    are bound when :func:`run_page` runs them. ``carry`` names scalar subqueries that the
    page needs besides its rows (the Invitations panel's version, say): they ride along in
    the same query and come back in the page's ``carried`` dict. ``count_of``: the rows to
    count, when ``query`` holds only those up to its page's end (``orgs.service``'s
    gathered search).

    Building these costs more than running them, so a page every request reads builds them
    once, with its own values as ``bindparam`` s too (``invitations.queries``)."""
    counted = _bounded_count(query if count_of is None else count_of).scalar_subquery()
    extras = list((carry or {}).items())
    rows = (
        query.add_columns(counted.label("bounded_total"), *(value.label(name) for name, value in extras))
        .limit(bindparam("page_size", type_=Integer)).offset(bindparam("page_start", type_=Integer))
    )
    return PageQuery(rows, select(counted, *(value for _, value in extras)), tuple(name for name, _ in extras))


def paginate(
    query: Select[Any], page: int, per_page: int, carry: Mapping[str, ScalarSelect[Any]] | None = None,
    count_of: Select[Any] | None = None,
) -> Page:
    """One page of ``query``'s results with ``total`` bounded as above (see
    :func:`page_query` for ``carry`` and ``count_of``)."""
    return run_page(page_query(query, carry, count_of), page, per_page)


def run_page(paged: PageQuery, page: int, per_page: int, values: Mapping[str, Any] | None = None) -> Page:
    """The page ``page`` of ``per_page`` rows of ``paged``, its statements run with
    ``values`` bound (those of the caller's own ``bindparam`` s)."""
    page, per_page = max(page, 1), max(per_page, 1)
    bound = (page + LOOKAHEAD_PAGES) * per_page
    params = {**(values or {}), "page_size": per_page, "page_start": (page - 1) * per_page,
              "page_count_limit": bound + 1}
    rows = db.session.execute(paged.rows, params).unique().all()
    if rows:
        first = tuple(rows[0])[1:]
    elif page == 1 and not paged.carried:
        first = (0,)  # nothing at all: no count needed
    else:  # no row to carry them: past the end, or an empty first page with extras
        first = tuple(db.session.execute(paged.totals, params).one())
    total = first[0]
    result = Page(page=page, per_page=per_page, error_out=False, max_per_page=None,
                  items=[row[0] for row in rows], total=min(total, bound))
    result.total_is_exact = total <= bound
    result.carried = dict(zip(paged.carried, first[1:]))
    return result


def _bounded_count(query: Select[Any]) -> Select[Any]:
    """``SELECT count(*)`` of at most ``:page_count_limit`` of ``query``'s rows."""
    rows = (query.options(lazyload("*")).order_by(None)
            .limit(bindparam("page_count_limit", type_=Integer)).subquery())
    return select(func.count()).select_from(rows)


# Far past any list's end, and small enough that the OFFSET it makes fits the databases'
# 64-bit integers (a page of 10**20 was a 500).
MAX_PAGE = 10**6


def page_number() -> int:
    """The ``page`` query argument as a positive int (bad values mean page 1, and a page
    past ``MAX_PAGE`` is that page: an empty one)."""
    return min(max(request.args.get("page", 1, type=int) or 1, 1), MAX_PAGE)
