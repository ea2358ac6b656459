"""Writing an export: CSV text a chunk at a time, a UTF-8 byte order mark first (so
spreadsheet programs read names as UTF-8), every cell made safe to open (OWASP's rule on
CSV injection: ``safe_cell``, shared with the import's templates' module)."""
from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime

from invites.imports.spreadsheet import safe_cell

BOM = "\ufeff"
ROWS_PER_CHUNK = 500  # rows written between two chunks of the response


def csv_chunks(header: Sequence[str], rows: Iterable[Sequence[object]]) -> Iterator[str]:
    """The CSV text of ``header`` then ``rows``, starting with the BOM, in chunks of
    ``ROWS_PER_CHUNK`` rows: only one chunk is ever held. Each cell goes through
    ``safe_cell`` (text starting with = + - @, a tab or a carriage return gets a leading
    apostrophe) and is quoted, as OWASP advises."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, quoting=csv.QUOTE_ALL)
    buffer.write(BOM)
    writer.writerow(header)
    for count, row in enumerate(rows, 1):
        writer.writerow([safe_cell(cell) for cell in row])
        if count % ROWS_PER_CHUNK == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


def utc_time(value: datetime | None) -> str:
    """A stored (naive UTC) time as ISO 8601 with its zone, "2026-01-01T09:00:00Z"."""
    return f"{value.isoformat(timespec='seconds')}Z" if value is not None else ""
