"""Access that ends on a date (issue 19, F22): a way in (an invitation, an invite link,
the Join Web Page, a spreadsheet import) may say until when the people it admits stay.

The membership keeps that end (``Membership.access_until``, the first moment without
access: the end of the chosen day, UTC). Being let in again never shortens it: the later
end wins, and no end beats any (:func:`longer`). ``flask expire-memberships`` (in
:mod:`invites.orgs.expiry`) warns before the end and removes the membership at it.
"""
from __future__ import annotations

from datetime import date, datetime, time, timedelta

from invites.clock import now
from invites.errors import DomainError
from invites.extensions import db

FIELD = "access_until"


class GrantsAccessUntil:
    """A model mixin for a way in: ``access_until`` (None: access without an end) for
    those it admits."""

    access_until = db.Column(db.DateTime)

    @property
    def access_last_day(self) -> date | None:
        """The last day of access, as forms show and take it."""
        return last_day(self.access_until)


def end_of(day: date | None, at: datetime | None = None) -> datetime | None:
    """The end of access for a chosen last ``day`` (its end, UTC); None for no day.
    Refuses a day already past."""
    if day is None:
        return None
    if day < (at or now()).date():
        raise DomainError("Pick a last day of access that is not in the past.", FIELD)
    return datetime.combine(day + timedelta(days=1), time.min)


def last_day(end: datetime | None) -> date | None:
    return None if end is None else (end - timedelta(microseconds=1)).date()


def longer(current: datetime | None, offered: datetime | None) -> datetime | None:
    """The end a member keeps when let in again: no end if either has none, else the later."""
    if current is None or offered is None:
        return None
    return max(current, offered)
