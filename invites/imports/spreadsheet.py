"""Reading the Import Learners spreadsheet: CSV (csv module) or XLSX (openpyxl).

Cells are read as text only: openpyxl returns a formula such as ``=HYPERLINK(...)`` as its
text and never evaluates it, and CSV has no formulas at all. Whatever a row says is kept
as a string; pages escape it and :func:`safe_cell` neutralizes it for any export.
"""
import csv
import io
import zipfile

from openpyxl import Workbook, load_workbook
from openpyxl.utils.exceptions import InvalidFileException

from invites.errors import DomainError

MAX_ROWS = 500
MAX_BYTES = 1024 * 1024
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


class SpreadsheetError(DomainError):
    def __init__(self, message):
        super().__init__(message, "file")


def read_rows(filename, data):
    """``[{"row_number", "email", "groups", "first_name", "last_name"}]`` of the data rows.

    Refuses an empty file, one over 1 MB, one that is neither CSV nor XLSX, a header
    without an email column, and more than 500 data rows. Empty rows are skipped.
    """
    if not data:
        raise SpreadsheetError("The file is empty.")
    if len(data) > MAX_BYTES:
        raise SpreadsheetError("The file is larger than 1 MB. Split it into smaller files.")
    if data[:4] == b"PK\x03\x04" or (filename or "").lower().endswith((".xlsx", ".xlsm")):
        table = _xlsx_rows(data)
    else:
        table = _csv_rows(data)
    table = [(number, cells) for number, cells in table if any(cell.strip() for cell in cells)]
    if not table:
        raise SpreadsheetError("The file has no rows.")
    header_number, header = table[0]
    positions = _columns(header)
    rows = table[1:]
    if not rows:
        raise SpreadsheetError("The file has a header but no people under it.")
    if len(rows) > MAX_ROWS:
        raise SpreadsheetError(
            f"The file has more than {MAX_ROWS} rows of people; import at most {MAX_ROWS} at a time."
        )
    result = []
    for number, cells in rows:
        row = {"row_number": number}
        for key, position in positions.items():
            value = cells[position] if position is not None and position < len(cells) else ""
            row[key] = value.strip()[: LIMITS[key]]
        result.append(row)
    return result


def _columns(header):
    wanted = {}
    normalized = [" ".join(cell.replace("_", " ").lower().split()) for cell in header]
    for key, names in COLUMNS.items():
        wanted[key] = next((i for i, name in enumerate(normalized) if name in names), None)
    if wanted["email"] is None:
        raise SpreadsheetError(
            "The first row must name the columns, and it has no “email” column. "
            "Download the template to see the expected columns."
        )
    return wanted


def _csv_rows(data):
    if b"\x00" in data[:4096]:
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
        return [(i, [cell for cell in row]) for i, row in enumerate(csv.reader(io.StringIO(text), dialect), start=1)]
    except csv.Error as error:
        raise SpreadsheetError(f"This CSV file could not be read ({error}).") from error


def _xlsx_rows(data):
    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=False)
    except (InvalidFileException, zipfile.BadZipFile, KeyError, ValueError, OSError) as error:
        raise SpreadsheetError("This file is not a spreadsheet Invites can read. Upload a CSV or an XLSX file.") from error
    try:
        sheet = workbook.worksheets[0]
        rows, filled = [], 0
        for i, values in enumerate(sheet.iter_rows(values_only=True), start=1):
            cells = ["" if value is None else str(value) for value in values]
            rows.append((i, cells))
            filled += any(cell.strip() for cell in cells)
            if filled > MAX_ROWS + 1:
                break  # the header and more than 500 people: enough to refuse
        return rows
    finally:
        workbook.close()


def safe_cell(value):
    """A cell for a CSV or XLSX export: text a spreadsheet would run as a formula
    (starting with = + - @, tab or carriage return) gets a leading apostrophe."""
    text = str(value or "")
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def template_csv():
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(TEMPLATE_HEADER)
    writer.writerow(TEMPLATE_EXAMPLE)
    return out.getvalue().encode("utf-8-sig")


def template_xlsx():
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "Learners"
    sheet.append(TEMPLATE_HEADER)
    sheet.append(TEMPLATE_EXAMPLE)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()
