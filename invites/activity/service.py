"""Recording and reading the organization's activity log (F16)."""
from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from flask import g, has_app_context
from flask_sqlalchemy.pagination import Pagination
from sqlalchemy import insert, literal, select
from sqlalchemy.orm import joinedload

from invites.activity.models import Activity
from invites.clock import now
from invites.extensions import db
from invites.orgs.models import Membership
from invites.pagination import paginate

if TYPE_CHECKING:
    from invites.accounts.models import User
    from invites.orgs.models import Organization


def acting_through(label: str | None) -> None:
    """Until the end of this request (app context), every line recorded says the change
    came through ``label`` ("API token “HR sync”"): ``... via API token “HR sync”``."""
    g.activity_via = label


def _summary(summary: str) -> str:
    via = g.get("activity_via") if has_app_context() else None
    return (f"{summary} via {via}" if via else summary)[:500]


def record(
    org: Organization, actor: User | None, verb: str, summary: str, target: object = None
) -> Activity:
    """Add one activity line; the caller commits with the change it describes.

    ``summary`` completes the sentence that starts with the actor's name, e.g.
    "changed Ann Lee's role from Member to Manager".
    """
    entry = Activity(
        org_id=org.id,
        actor_id=actor.id if actor is not None else None,
        verb=verb,
        summary=_summary(summary),
        target_type=type(target).__name__ if target is not None else None,
        target_id=getattr(target, "id", None),
    )
    db.session.add(entry)
    return entry


def record_many(
    org: Organization, actor: User | None, lines: Iterable[tuple[str, str, object]]
) -> None:
    """Add many activity lines, each ``(verb, summary, target)`` as for :func:`record`, in
    one INSERT (a 500-row import writes 500 lines) rather than one ORM object each. The
    targets must have their ids (flushed); the caller commits."""
    rows = [
        {
            "org_id": org.id,
            "actor_id": actor.id if actor is not None else None,
            "verb": verb,
            "summary": _summary(summary),
            "target_type": type(target).__name__ if target is not None else None,
            "target_id": getattr(target, "id", None),
        }
        for verb, summary, target in lines
    ]
    if rows:
        db.session.execute(insert(Activity), rows)


def record_in_each_organization(user: User, verb: str, summary: str) -> None:
    """One line by ``user``, about their own account, in each organization they belong to
    (a rename: every page shows an actor by their current name), in one INSERT whatever
    their number; the caller commits."""
    db.session.execute(insert(Activity).from_select(
        ["org_id", "actor_id", "verb", "summary", "target_type", "target_id", "created_at"],
        select(Membership.org_id, literal(user.id), literal(verb), literal(_summary(summary)),
               literal(type(user).__name__), literal(user.id), literal(now()))
        .where(Membership.user_id == user.id),
    ))


def page_of_activity(org: Organization, page: int, per_page: int) -> Pagination:
    """Newest first, with each actor loaded in the same query (no N+1)."""
    query = (
        db.select(Activity)
        .options(joinedload(Activity.actor))
        .where(Activity.org_id == org.id)
        .order_by(Activity.created_at.desc(), Activity.id.desc())
    )
    return paginate(query, page, per_page)
