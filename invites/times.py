"""Times as people read them: "2 hours ago", "in 6 days", with the full date in the
viewer's time zone one hover away. Babel does the wording, so the UI is ready to translate.

Pages call the ``date`` template global (:func:`show_time`) twice per list row, so the
per-call work is kept small: the locale is parsed once, the viewer's zone once per request
(in ``g``), and Babel words each amount, day, clock time and zone name once (cached).
"""
from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from babel import Locale
from babel.dates import format_date, format_time, format_timedelta, get_timezone_name
from flask import g, has_request_context
from flask_login import current_user
from markupsafe import Markup, escape

from invites.clock import now

DEFAULT_ZONE = "UTC"
# One locale for now; a per-viewer locale (Flask-Babel's selector) can replace it later.
LOCALE = Locale.parse("en")
# How the locale joins a full date ({1}) and a time ({0}): "{1}, {0}" in English.
_JOIN = LOCALE.datetime_formats["full"]
# 1 rather than Babel's default 0.85, so six days read "6 days", not "1 week".
THRESHOLD = 1.0
# Babel's units (format_timedelta's TIMEDELTA_UNITS): year, month, week, day, hour, minute,
# second. This very instant reads "1 second ago" (Babel: "in 0 seconds").
_UNIT_SECONDS = (365 * 86400, 30 * 86400, 7 * 86400, 86400, 3600, 60, 1)

_REGIONS = ("Africa/", "America/", "Antarctica/", "Arctic/", "Asia/", "Atlantic/",
            "Australia/", "Europe/", "Indian/", "Pacific/")
# What a user may choose: the geographic zones (not Etc/GMT+5, US/Eastern, posixrules...)
# and UTC. Browsers may report an older alias (Asia/Calcutta): those are regional too.
ZONES: frozenset[str] = frozenset(
    name for name in available_timezones() if name.startswith(_REGIONS)
) | {DEFAULT_ZONE}
_ALIASES = {"Etc/UTC": DEFAULT_ZONE, "Etc/GMT": DEFAULT_ZONE, "GMT": DEFAULT_ZONE,
            "Etc/Universal": DEFAULT_ZONE, "Etc/Zulu": DEFAULT_ZONE, "Universal": DEFAULT_ZONE,
            "Zulu": DEFAULT_ZONE}


# The account page's select: UTC first, then the zones by name ("America/New York").
ZONE_CHOICES: list[tuple[str, str]] = [(DEFAULT_ZONE, DEFAULT_ZONE)] + [
    (name, name.replace("_", " ")) for name in sorted(ZONES - {DEFAULT_ZONE})
]


def known_zone(name: object) -> str | None:
    """``name`` as a zone a user may have (UTC's aliases read as UTC), else None."""
    if not isinstance(name, str):
        return None
    name = _ALIASES.get(name, name)
    return name if name in ZONES else None


@lru_cache(maxsize=None)
def zone_named(name: str) -> ZoneInfo:
    """The zone called ``name``; UTC for a name this machine does not know."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo(DEFAULT_ZONE)


def viewer_zone() -> ZoneInfo:
    """The zone of whoever is looking: their account's setting, UTC when logged out or
    outside a request (mail, the command line). Read once per request."""
    if not has_request_context():
        return zone_named(DEFAULT_ZONE)
    zone = g.get("viewer_zone")
    if zone is None:
        name = current_user.time_zone if current_user.is_authenticated else DEFAULT_ZONE
        zone = g.viewer_zone = zone_named(name or DEFAULT_ZONE)
    return zone


def relative(value: datetime, reference: datetime) -> str:
    """``value`` seen from ``reference`` (both naive UTC): "2 hours ago", "in 6 days".

    The largest unit with at least one whole of it, rounded, as Babel's ``format_timedelta``
    picks it; Babel then words that exact amount, once per amount (:func:`_phrase`)."""
    seconds = (value - reference).total_seconds()
    distance = abs(seconds)
    for size in _UNIT_SECONDS:
        if distance >= size * THRESHOLD:
            break
    amount = max(1, round(distance / size)) * size
    return _phrase(amount if seconds > 0 else -amount)


@lru_cache(maxsize=1024)
def _phrase(seconds: int) -> str:
    return format_timedelta(timedelta(seconds=seconds), threshold=THRESHOLD, add_direction=True,
                            locale=LOCALE)


def full_date(value: datetime, zone: ZoneInfo) -> str:
    """A stored (naive UTC) instant written out in ``zone``, with the zone's name:
    "Wednesday, November 25, 2026, 3:16 AM Central European Standard Time".

    Babel's full date and short time joined the locale's way, as ``format_datetime`` joins
    them; each piece is worded once (a page's rows share days, clock times and zones)."""
    local = value.replace(tzinfo=timezone.utc).astimezone(zone)
    return _JOIN.replace("{1}", _day(local.date())).replace(
        "{0}", f"{_clock(local.hour, local.minute)} {_zone_name(local)}")


@lru_cache(maxsize=4096)
def _day(day: date) -> str:
    return format_date(day, "full", locale=LOCALE)


@lru_cache(maxsize=1440)
def _clock(hour: int, minute: int) -> str:
    return format_time(time(hour, minute), "short", locale=LOCALE)


_zone_names: dict[tuple[str, timedelta | None, timedelta | None], str] = {}


def _zone_name(local: datetime) -> str:
    """"Central European Standard Time" (or Summer Time: the offset and DST are the key)."""
    zone = local.tzinfo
    key = (getattr(zone, "key", ""), local.utcoffset(), local.dst())
    name = _zone_names.get(key)
    if name is None:
        name = _zone_names[key] = get_timezone_name(local, "long", locale=LOCALE)
    return name


def show_day(day: date | None) -> str:
    """A calendar day as pages write it ("Dec 31, 2026"): a last day of access, which is
    a UTC day and not an instant, so neither relative nor moved to the viewer's zone."""
    return "" if day is None else _medium_day(day)


@lru_cache(maxsize=1024)
def _medium_day(day: date) -> str:
    return format_date(day, "medium", locale=LOCALE)


def show_time(value: datetime | None) -> Markup:
    """A stored (naive UTC) time as pages show it: relative, in a ``<time>`` element whose
    title is the full date in the viewer's zone. A Python global rather than a macro: list
    rows call it twice each, and a macro call costs several times more."""
    if not value:
        return Markup("")
    return Markup(
        f'<time datetime="{value.isoformat(timespec="seconds")}Z" '
        f'title="{escape(full_date(value, viewer_zone()))}">'
        f"{escape(relative(value, now()))}</time>"
    )
