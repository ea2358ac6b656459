"""One source of time, so tests can set it instead of sleeping."""
from datetime import datetime, timezone

_frozen: datetime | None = None


def now() -> datetime:
    """Current UTC time as a naive datetime (the form the database stores)."""
    if _frozen is not None:
        return _frozen
    return datetime.now(timezone.utc).replace(tzinfo=None)


def freeze(moment: datetime) -> None:
    """Make ``now()`` return ``moment`` until ``unfreeze()``; for tests."""
    global _frozen
    _frozen = moment


def unfreeze() -> None:
    global _frozen
    _frozen = None
