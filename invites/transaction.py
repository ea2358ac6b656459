"""The request's transaction. Routes own it; services flush and never commit.

``attempt`` is the one way a route runs a service call: commit when it succeeds; when it
raises a :class:`DomainError`, roll back and show the message, on the form (its field, or
the form itself) or as a flash message::

    with attempt(form) as done:
        org = service.create_organization(current_user, form.name.data)
    if done:
        return redirect(url_for("orgs.manage", slug=org.slug))
    return render_template("orgs/new.html", form=form)

A DomainError that escapes a route without ``attempt`` is answered by the error handler
(rolled back, a 422 page with its message).
"""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from flask import flash

from invites.errors import DomainError
from invites.extensions import db


class Outcome:
    """True once the block succeeded (and was committed); ``error`` holds the refusal."""

    def __init__(self) -> None:
        self.error: DomainError | None = None
        self.ok = False

    def __bool__(self) -> bool:
        return self.ok


@contextmanager
def attempt(form: Any = None, category: str = "error", commit: bool = True) -> Iterator[Outcome]:
    """Run the block in the request's transaction; see the module docstring. ``form``
    None flashes the message in ``category``. ``commit`` False leaves a success
    uncommitted, for a caller that commits later itself."""
    outcome = Outcome()
    try:
        yield outcome
    except DomainError as error:
        db.session.rollback()
        outcome.error = error
        if form is not None:
            error.apply_to(form)
        else:
            flash(error.message, category)
        return
    if commit:
        db.session.commit()
    outcome.ok = True


def on_postgresql() -> bool:
    """Whether the session's database is PostgreSQL (else SQLite, the only other one)."""
    return bool(db.session.get_bind().dialect.name == "postgresql")


def claim_first(query: Any, of: Any) -> Any:
    """The first row of ``query`` (ordered by the caller) that no other transaction holds,
    locked for this one: ``FOR UPDATE SKIP LOCKED`` of the table of ``of`` on PostgreSQL,
    so several runners of a scheduled command on several machines each take another row.
    SQLite has no row locks: the caller's conditional UPDATE or DELETE decides there.
    Reloaded from the database (``populate_existing``), not from the session."""
    query = query.limit(1)
    if on_postgresql():
        query = query.with_for_update(skip_locked=True, of=of)
    return db.session.scalars(query.execution_options(populate_existing=True)).unique().first()
