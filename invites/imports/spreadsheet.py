"""Reading the Import Learners spreadsheet: CSV (csv module) or XLSX (openpyxl).

Cells are read as text only: openpyxl returns a formula such as ``=HYPERLINK(...)`` as its
text and never evaluates it, and CSV has no formulas at all. Whatever a row says is kept
as a string; pages escape it and :func:`safe_cell` neutralizes it for any export.

A hostile file must be cheap to refuse (security review F3, F8, F10). Rows are read one at
a time and reading stops at the first row past a limit. An XLSX file is measured before
openpyxl opens it (:func:`check_package`): openpyxl holds a whole row, and whole parts such
as the styles, in memory, and some of its work multiplies two parts (each sheet the workbook
lists re-reads that sheet's part; each cell of a shared formula tokenizes the formula again).
"""
from __future__ import annotations

import csv
import io
import re
import zipfile
from collections.abc import Generator
from contextlib import closing
from typing import IO, Any, TypeAlias
from xml.parsers import expat

from openpyxl import Workbook, load_workbook

from invites.errors import DomainError

MAX_ROWS = 500
MAX_BYTES = 1024 * 1024
MAX_COLUMNS = 50  # cells past the 50th of a row are ignored, not refused
MAX_SHEET_ROWS = 100_000  # rows of any kind, empty ones too
MAX_CELL_CHARS = 2_000  # a cell is cut to this as it is read: twice the longest value kept
TEMPLATE_HEADER = ["email", "groups", "first name", "last name"]
TEMPLATE_EXAMPLE = ["ann.lee@example.com", "New Hires; Safety Training", "Ann", "Lee"]
# Header names users write, matched case-insensitively, spaces and underscores alike.
COLUMNS = {
    "email": {"email", "e-mail", "email address", "e-mail address", "mail"},
    "groups": {"groups", "group"},
    "first_name": {"first name", "firstname", "given name", "first"},
    "last_name": {"last name", "lastname", "surname", "family name", "last"},
}
LIMITS = {"email": 500, "groups": 1000, "first_name": 200, "last_name": 200}
# One data row: "row_number" (int) and each key of COLUMNS (str).
Row: TypeAlias = dict[str, Any]
# (number, cells) of each row of a sheet, as it is read.
SheetRows: TypeAlias = Generator[tuple[int, list[str]], None, None]

# An XLSX file is a zip of XML parts; check_package holds them to these. For scale, a list of
# 500 people in 50 columns, as openpyxl writes it, is 1.5 MB of XML and 81,000 units of work.
MAX_PARTS = 1_000
MAX_PART_SIZE = 5 * 1024 * 1024
MAX_UNPACKED_SIZE = 20 * 1024 * 1024
MAX_RATIO, RATIO_FROM = 100, 1024 * 1024  # inflated size : compressed size, for parts over 1 MB
MAX_ROW_CELLS = 16_384  # Excel's own number of columns
MAX_ATTRIBUTES = 100  # on one element; Excel writes at most about 20
MAX_MARKUP = 64 * 1024  # bytes of one tag, comment or processing instruction
# Work is counted in units of about 5 µs of openpyxl's time, the cost of a cell (see _Work).
MAX_WORK = 150_000
OTHER_WEIGHT = 8  # an element that is not a row, cell, value or string; a range in one
FORMULA_CHARS = 4  # characters of a shared formula tokenized in one unit

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main "  # expat's "namespace name"
RELATIONSHIP = "http://schemas.openxmlformats.org/package/2006/relationships Relationship"
CELL_ELEMENTS = {MAIN + name for name in ("row", "c", "v", "f", "is", "t", "si")}
SEPARATORS = re.compile(r"[\s,]+")  # between the ranges of a sqref, a print area...

NOT_READABLE = "This file is not a spreadsheet Invites can read. Upload a CSV or an XLSX file."
TOO_COMPLEX = (
    "This spreadsheet is too large or too complex to read. Copy the list of people into a "
    "new file (at most 500 rows) and upload that."
)


class SpreadsheetError(DomainError):
    def __init__(self, message: str) -> None:
        super().__init__(message, "file")


def read_rows(filename: str | None, data: bytes) -> list[Row]:
    """``[{"row_number", "email", "groups", "first_name", "last_name"}]`` of the data rows.

    Refuses an empty file, one over 1 MB, one that is neither CSV nor XLSX, an XLSX file that
    :func:`check_package` finds too costly, a header without an email column, more than 500
    data rows, and a sheet that goes on past row 100,000 (empty rows count). Empty rows are
    skipped; only the first 50 columns are read, each cell cut to 2,000 characters.
    """
    if not data:
        raise SpreadsheetError("The file is empty.")
    if len(data) > MAX_BYTES:
        raise SpreadsheetError("The file is larger than 1 MB. Split it into smaller files.")
    is_xlsx = data[:4] == b"PK\x03\x04" or (filename or "").lower().endswith((".xlsx", ".xlsm"))
    header: dict[str, int | None] | None = None
    people: list[Row] = []
    with closing(_xlsx_rows(data) if is_xlsx else _csv_rows(data)) as rows:
        for number, cells in rows:
            if number > MAX_SHEET_ROWS:
                raise SpreadsheetError(
                    f"The file goes on past row {MAX_SHEET_ROWS:,}, counting empty rows. Delete the "
                    "empty rows under the list, or copy the list into a new file."
                )
            if not any(cell.strip() for cell in cells):
                continue
            if header is None:
                header = _columns(cells)
            elif len(people) < MAX_ROWS:
                people.append(_person(number, cells, header))
            else:
                raise SpreadsheetError(
                    f"The file has more than {MAX_ROWS} rows of people; import at most {MAX_ROWS} at a time."
                )
    if header is None:
        raise SpreadsheetError("The file has no rows.")
    if not people:
        raise SpreadsheetError("The file has a header but no people under it.")
    return people


def _columns(header: list[str]) -> dict[str, int | None]:
    wanted: dict[str, int | None] = {}
    normalized = [" ".join(cell.replace("_", " ").lower().split()) for cell in header]
    for key, names in COLUMNS.items():
        wanted[key] = next((i for i, name in enumerate(normalized) if name in names), None)
    if wanted["email"] is None:
        raise SpreadsheetError(
            "The first row must name the columns, and it has no “email” column. "
            "Download the template to see the expected columns."
        )
    return wanted


def _person(number: int, cells: list[str], positions: dict[str, int | None]) -> Row:
    row: Row = {"row_number": number}
    for key, position in positions.items():
        value = cells[position] if position is not None and position < len(cells) else ""
        row[key] = value.strip()[: LIMITS[key]]
    return row


def _csv_rows(data: bytes) -> SheetRows:
    """(record number, cells) of every record, empty ones included, parsed as they are read.

    Refuses a file with a NUL byte anywhere: it is not text (UTF-16, an image), and
    PostgreSQL could not store it in a text column anyway.
    """
    if b"\x00" in data:
        raise SpreadsheetError("This file is not a spreadsheet. Upload a CSV or an XLSX file.")
    try:
        text = data.decode("utf-8-sig")  # with or without the BOM Excel writes
    except UnicodeDecodeError:
        text = data.decode("cp1252", errors="replace")  # Excel's usual "CSV" on Windows
    sample = text[:4096]
    try:
        dialect = csv.Sniffer().sniff(sample, delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    try:
        for number, row in enumerate(csv.reader(io.StringIO(text), dialect), start=1):
            yield number, [cell[:MAX_CELL_CHARS] for cell in row[:MAX_COLUMNS]]
    except csv.Error as error:
        raise SpreadsheetError(f"This CSV file could not be read ({error}).") from error


def _xlsx_rows(data: bytes) -> SheetRows:
    """(row number, cells) of every row of the first sheet, empty ones included, read one at
    a time by openpyxl's read-only mode once :func:`check_package` has let the file in."""
    workbook = None
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            check_package(archive)
        workbook = load_workbook(io.BytesIO(data), read_only=True, keep_links=False)
        rows = workbook.worksheets[0].iter_rows(max_col=MAX_COLUMNS, values_only=True)
        for number, values in enumerate(rows, start=1):
            if values.count(None) == len(values):  # as openpyxl fills a gap in the row numbers
                yield number, []
            else:
                yield number, ["" if value is None else str(value)[:MAX_CELL_CHARS] for value in values]
    except SpreadsheetError:
        raise
    except Exception as error:
        # On a malformed package zipfile, zlib, expat and openpyxl raise errors of many kinds
        # (BadZipFile, zlib.error, ParseError, KeyError, IndexError, ValueError, TypeError...):
        # to the person uploading it they all mean the same.
        raise SpreadsheetError(NOT_READABLE) from error
    finally:
        if workbook is not None:
            workbook.close()


def check_package(archive: zipfile.ZipFile) -> None:
    """Refuse an XLSX package that would cost openpyxl too much, before it reads any of it.

    zipfile never inflates a part past the size the zip's directory gives, so those sizes are
    checked first: at most MAX_PARTS parts, each at most MAX_PART_SIZE and all together at
    most MAX_UNPACKED_SIZE inflated, and none over RATIO_FROM more than MAX_RATIO times its
    compressed size. Then every part is streamed through expat (:class:`_PartReader`), which
    refuses a DTD (an XLSX never has one; entity bombs need one), markup longer than
    MAX_MARKUP (expat would hand over all its attributes at once), an element with more than
    MAX_ATTRIBUTES attributes, a row of more than MAX_ROW_CELLS cells, a chart sheet (openpyxl
    reads its drawing and charts, even read-only) and more than MAX_WORK units of work.
    """
    parts = archive.infolist()
    if len(parts) > MAX_PARTS or sum(part.file_size for part in parts) > MAX_UNPACKED_SIZE:
        raise SpreadsheetError(TOO_COMPLEX)
    for part in parts:
        if part.file_size > MAX_PART_SIZE or (
            part.file_size > RATIO_FROM and part.file_size > MAX_RATIO * part.compress_size
        ):
            raise SpreadsheetError(TOO_COMPLEX)
    work = _Work()
    for part in parts:
        with archive.open(part) as stream:
            _PartReader(work).read(stream)
    work.add(work.sheets * (work.lead + OTHER_WEIGHT * work.relationships))


class _Work:
    """The work openpyxl would do on a package: its read-only load, then reading every row of
    the first sheet, in units of about one cell's time.

    A row, cell, value or string counts 1, and a row 1 more for each attribute (openpyxl keeps
    those of every row). Any other element (styles, formatting, names, relationships) counts
    OTHER_WEIGHT, and as much again for each range that a space or comma separates in its
    attributes or text, as openpyxl makes an object of each. A shared formula counts its
    length (over FORMULA_CHARS) once, then again for each cell using it. Each sheet the
    workbook lists makes openpyxl re-read that sheet's part up to its ``<dimension>``, and its
    relationships: the longest such lead and all relationships count once per sheet.
    """

    def __init__(self) -> None:
        self.units: float = 0
        self.sheets = 0
        self.lead = 0
        self.relationships = 0

    def add(self, units: float) -> None:
        self.units += units
        if self.units > MAX_WORK:
            raise SpreadsheetError(TOO_COMPLEX)


class _PartReader:
    """Streams one part through expat, adding to the package's :class:`_Work` as it goes."""

    def __init__(self, work: _Work) -> None:
        self.work = work
        self.parser = expat.ParserCreate(namespace_separator=" ")
        self.parser.ordered_attributes = True  # names and values alternate in one list
        self.parser.buffer_text = True
        self.parser.StartDoctypeDeclHandler = self.doctype
        self.parser.StartElementHandler = self.start
        self.parser.EndElementHandler = self.end
        self.parser.CharacterDataHandler = self.text
        self.seen = 0  # bytes up to the start of the latest tag or text
        self.root: str | None = None
        self.lead = 0  # elements before <dimension>
        self.before_dimension = True
        self.open: list[bool] = []  # for each open element: is it counted as a cell (else as other)?
        self.row_cells = 0
        self.formula: list[Any] | None = None  # [si, length of its text] of the open shared formula
        self.shared: dict[str | None, int] = {}  # si: length of the shared formula's text

    def read(self, stream: IO[bytes]) -> None:
        fed = 0
        try:
            while chunk := stream.read(16 * 1024):
                self.parser.Parse(chunk, False)
                fed += len(chunk)
                if fed - self.seen > MAX_MARKUP:  # expat is still buffering one piece of markup
                    raise SpreadsheetError(TOO_COMPLEX)
            self.parser.Parse(b"", True)
        except expat.ExpatError:
            pass  # not XML (an image), or broken: if openpyxl reads it, it stops where expat did
        if self.root == MAIN + "worksheet":
            self.work.lead = max(self.work.lead, self.lead)

    def doctype(self, *declaration: object) -> None:
        raise SpreadsheetError(NOT_READABLE)

    def start(self, name: str, attributes: list[str]) -> None:
        self.seen = self.parser.CurrentByteIndex
        if len(attributes) > 2 * MAX_ATTRIBUTES:
            raise SpreadsheetError(TOO_COMPLEX)
        self.root = self.root or name
        if self.before_dimension:
            self.lead += 1
            self.before_dimension = name != MAIN + "dimension"
        is_cell = name in CELL_ELEMENTS
        self.open.append(is_cell)
        if not is_cell:
            ranges = sum(len(SEPARATORS.findall(value)) for value in attributes[1::2])
            self.work.add(OTHER_WEIGHT * (1 + ranges))
            if name == MAIN + "sheet":
                self.work.sheets += 1
            elif name == RELATIONSHIP:
                self.work.relationships += 1
                if "chartsheet" in dict(zip(attributes[::2], attributes[1::2])).get("Type", ""):
                    raise SpreadsheetError(TOO_COMPLEX)
            return
        if name == MAIN + "row":
            self.work.add(1 + len(attributes) // 2)
            self.row_cells = 0
            return
        self.work.add(1)
        if name == MAIN + "c":
            self.row_cells += 1
            if self.row_cells > MAX_ROW_CELLS:
                raise SpreadsheetError(TOO_COMPLEX)
        elif name == MAIN + "f":
            formula = dict(zip(attributes[::2], attributes[1::2]))
            if formula.get("t") == "shared":
                self.formula = [formula.get("si"), 0]

    def text(self, data: str) -> None:
        self.seen = self.parser.CurrentByteIndex
        if self.formula is not None:
            self.formula[1] += len(data)
        elif self.open and not self.open[-1]:
            self.work.add(OTHER_WEIGHT * len(SEPARATORS.findall(data)))

    def end(self, name: str) -> None:
        self.seen = self.parser.CurrentByteIndex
        self.open.pop()
        if self.formula is not None and name == MAIN + "f":
            si, length = self.formula
            self.formula = None
            if si in self.shared:  # openpyxl translates the first formula given for si
                self.work.add(self.shared[si] / FORMULA_CHARS)
            elif length:
                self.shared[si] = length
                self.work.add(length / FORMULA_CHARS)


def safe_cell(value: object) -> str:
    """A cell for a CSV or XLSX export: text a spreadsheet would run as a formula
    (starting with = + - @, tab or carriage return) gets a leading apostrophe."""
    text = str(value or "")
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def template_csv() -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(TEMPLATE_HEADER)
    writer.writerow(TEMPLATE_EXAMPLE)
    return out.getvalue().encode("utf-8-sig")


def template_xlsx() -> bytes:
    workbook = Workbook()
    sheet = workbook.worksheets[0]  # a new workbook has one, active
    sheet.title = "Learners"
    sheet.append(TEMPLATE_HEADER)
    sheet.append(TEMPLATE_EXAMPLE)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()
