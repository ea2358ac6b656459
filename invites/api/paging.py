"""Cursor pagination for the API: keyset on (created_at, id), newest first. A cursor is
opaque to clients (base64url of the last row's time and id); a page costs the same at
any depth, and rows added meanwhile neither repeat nor shift a page."""
from __future__ import annotations

import base64
import binascii
import json
from datetime import datetime
from typing import Any

from sqlalchemy import Select, tuple_

from invites.errors import DomainError
from invites.extensions import db


def encode(created_at: datetime, row_id: int) -> str:
    raw = json.dumps([created_at.isoformat(), row_id], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode(cursor: str) -> tuple[datetime, int]:
    """The (created_at, id) a cursor carries; refuses (on the field "cursor") anything else."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        at, row_id = json.loads(raw)
        if not isinstance(row_id, int) or isinstance(row_id, bool) or not 0 < row_id < 2**63:
            raise ValueError(row_id)
        return datetime.fromisoformat(at), row_id
    except (binascii.Error, ValueError, TypeError, UnicodeDecodeError):
        raise DomainError("This cursor is not one the API gave: pass next_cursor as it came.", "cursor") from None


def keyset(query: Select[Any], model: Any, cursor: str | None, limit: int) -> dict[str, Any]:
    """``{"data": rows, "next_cursor": ...}``: the ``limit`` rows of ``query`` (ordered by
    ``model.created_at`` and ``model.id``, newest first) after ``cursor``."""
    if cursor:
        at, row_id = decode(cursor)
        query = query.where(tuple_(model.created_at, model.id) < tuple_(at, row_id))
    rows = list(db.session.scalars(query.limit(limit + 1)).unique())
    more = len(rows) > limit
    rows = rows[:limit]
    return {"data": rows, "next_cursor": encode(rows[-1].created_at, rows[-1].id) if more else None}
