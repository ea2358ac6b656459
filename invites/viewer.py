"""Whoever is asking, and what every page needs of them, read in one query per request.

Every page shows the bell (the account's unread notifications, counted up to the bell's
limit), and every organization page needs the organization its URL names and the
viewer's role there. Flask-Login's user loader asks for all of it at once: the account
through its session row, the bounded unread count, and, when the URL has a ``slug``, the
organization and the membership's role, outer-joined so that a missing organization or a
non-member still reads as such. The answers are kept for this request only
(:func:`invites.orgs.loaders.load_org`, :func:`invites.policy.role_of` and
:func:`invites.notifications.service.unread_count` read them), so a manager demoted or a
member removed is refused on their very next request.
"""
from __future__ import annotations

from functools import cache
from typing import Any

from flask import has_request_context, request
from sqlalchemy import Select, bindparam

from invites import policy
from invites.accounts import sessions
from invites.accounts.models import User
from invites.errors import UNSTORABLE
from invites.extensions import db
from invites.notifications import service as notifications
from invites.orgs import loaders
from invites.orgs.models import Membership, Organization


def load_viewer(cookie_value: str) -> User | None:
    """Flask-Login's user loader: the account a session cookie opens, or None."""
    values = sessions.session_values(cookie_value)
    if values is None:
        return None
    slug = _slug()
    if slug is not None:
        values["slug"] = slug
    row = db.session.execute(_statement(slug is not None), values).first()
    if row is None:
        return None
    user = sessions.opened(row[0], cookie_value)
    notifications.remember_unread(user, row[1])
    if slug is not None:
        org, role = row[2], row[3]
        loaders.remember_org(slug, org)
        if org is not None:
            policy.remember_role(user, org, role)
    return user


@cache
def _statement(with_org: bool) -> Select[Any]:
    """The viewer's query, built once for each shape (with the URL's organization or
    without); the cookie's values and the slug (``:slug``) are bound when it runs."""
    query: Select[Any] = sessions.user_statement().add_columns(
        notifications.unread_count_query(bindparam("user_id")).scalar_subquery()
    )
    if with_org:
        query = (
            query.add_columns(Organization, Membership.role)
            .outerjoin(Organization, Organization.slug == bindparam("slug"))
            .outerjoin(Membership, (Membership.org_id == Organization.id) & (Membership.user_id == User.id))
        )
    return query


def _slug() -> str | None:
    """The organization slug in this request's URL, if its route has one. None for one
    the database cannot compare (a NUL byte, say): that request is refused with a 400, and
    its error page, which loads the viewer too, must not fail on it (security review F8)."""
    if not has_request_context() or not request.view_args:
        return None
    slug = request.view_args.get("slug")
    return slug if isinstance(slug, str) and not UNSTORABLE.search(slug) else None
