"""Security review F3, F10 and F8's import case: hostile spreadsheets, built here part by part
at the review's sizes, are refused with a clear message, fast and in bounded memory, both
by read_rows and through the upload route. Then the same limits still let real files in."""
import functools
import io
import random
import re
import struct
import time
import tracemalloc
import zipfile
from xml.etree import ElementTree

import pytest
from openpyxl import Workbook
from openpyxl.chart import BarChart, Reference

from invites.extensions import db
from invites.imports.models import Import
from invites.imports.spreadsheet import SpreadsheetError, read_rows

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
RELATIONSHIPS = "http://schemas.openxmlformats.org/package/2006/relationships"
OFFICE = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
TYPES = "application/vnd.openxmlformats-officedocument.spreadsheetml"
TOO_COMPLEX = "too large or too complex"
NOT_READABLE = "This file is not a spreadsheet Invites can read."
HEADER = '<row r="1"><c r="A1" t="inlineStr"><is><t>email</t></is></c></row>'
PERSON = '<row r="2"><c r="A2" t="inlineStr"><is><t>ann@example.com</t></is></c></row>'


def xlsx_package(sheet_data, shared_strings=None, prolog="", sheets=1, after_data=""):
    """A minimal valid XLSX: the five parts openpyxl needs (six with ``shared_strings``), its
    first sheet's ``<sheetData>`` holding ``sheet_data`` (str, or an iterable of str, written
    as it comes). ``sheets`` lists that same sheet that many times."""
    out = io.BytesIO()
    overrides = [("/xl/workbook.xml", "sheet.main"), ("/xl/worksheets/sheet1.xml", "worksheet")]
    relationships = [("rId1", "worksheet", "worksheets/sheet1.xml")]
    if shared_strings is not None:
        overrides.append(("/xl/sharedStrings.xml", "sharedStrings"))
        relationships.append(("rId2", "sharedStrings", "sharedStrings.xml"))
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as package:
        package.writestr("[Content_Types].xml", (
            '<?xml version="1.0" encoding="UTF-8"?>'
            '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
            '<Default Extension="xml" ContentType="application/xml"/>'
            + "".join(f'<Override PartName="{name}" ContentType="{TYPES}.{kind}+xml"/>' for name, kind in overrides)
            + "</Types>"))
        package.writestr("_rels/.rels", (
            f'<Relationships xmlns="{RELATIONSHIPS}"><Relationship Id="rId1" '
            f'Type="{OFFICE}/officeDocument" Target="xl/workbook.xml"/></Relationships>'))
        package.writestr("xl/workbook.xml", (
            f'<workbook xmlns="{MAIN}" xmlns:r="{OFFICE}"><sheets>'
            + "".join(f'<sheet name="Sheet{i}" sheetId="{i}" r:id="rId1"/>' for i in range(1, sheets + 1))
            + "</sheets></workbook>"))
        package.writestr("xl/_rels/workbook.xml.rels", (
            f'<Relationships xmlns="{RELATIONSHIPS}">'
            + "".join(f'<Relationship Id="{id}" Type="{OFFICE}/{kind}" Target="{target}"/>'
                      for id, kind, target in relationships)
            + "</Relationships>"))
        with package.open("xl/worksheets/sheet1.xml", "w") as sheet:
            sheet.write(f'{prolog}<worksheet xmlns="{MAIN}"><sheetData>'.encode())
            for piece in [sheet_data] if isinstance(sheet_data, str) else sheet_data:
                sheet.write(piece.encode())
            sheet.write(f"</sheetData>{after_data}</worksheet>".encode())
        if shared_strings is not None:
            with package.open("xl/sharedStrings.xml", "w") as strings:
                strings.write(f'<sst xmlns="{MAIN}">'.encode())
                for piece in shared_strings:
                    strings.write(piece.encode())
                strings.write(b"</sst>")
    return out.getvalue()


def noise(n):
    """``n`` characters that do not compress: to pad a part under the ratio limit."""
    return "".join(random.Random(n).choices("abcdefghijklmnopqrstuvwxyz0123456789", k=n))


def claiming(data, name, size):
    """``data`` with its zip directory giving ``size`` as the inflated size of ``name``."""
    data = bytearray(data)
    for record in re.finditer(re.escape(b"PK\x01\x02"), data):
        start = record.start()
        length = struct.unpack_from("<H", data, start + 28)[0]
        if data[start + 46:start + 46 + length] == name.encode():
            struct.pack_into("<I", data, start + 24, size)
    return bytes(data)


# The review's files (F3, F10), and the other ways found to make openpyxl work too hard.
@functools.cache
def bomb(kind):
    if kind == "2M empty rows":  # 19 KB in the review, 627 MB and 18 s
        return xlsx_package([HEADER] + ["<row/>" * 100_000] * 20)
    if kind == "1M cells in a row":  # 5 KB in the review, 385 MB and 12 s
        return xlsx_package([HEADER, '<row r="2">'] + ["<c/>" * 100_000] * 10 + ["</row>"])
    if kind == "200 MB shared string":  # 196 KB in the review, 430 MB
        return xlsx_package(HEADER + '<row r="2"><c r="A2" t="s"><v>0</v></c></row>',
                            shared_strings=["<si><t>"] + ["x" * 1_000_000] * 200 + ["</t></si>"])
    if kind == "billion laughs":  # F10: answered 500
        entities = ['<!ENTITY lol0 "lol">'] + [f'<!ENTITY lol{i} "{f"&lol{i - 1};" * 10}">' for i in range(1, 10)]
        return xlsx_package(HEADER + '<row r="2"><c r="A2" t="inlineStr"><is><t>&lol9;</t></is></c></row>',
                            prolog=f'<?xml version="1.0"?><!DOCTYPE worksheet [{"".join(entities)}]>')
    if kind == "empty rows padded under the ratio":  # 800,000 rows in a 5 MB part
        return xlsx_package([HEADER, f'<row r="2"><c r="Z2" t="inlineStr"><is><t>{noise(100_000)}</t></is></c></row>']
                            + ["<row/>" * 100_000] * 8)
    if kind == "a row at 1,000,000":  # openpyxl yields every empty row before it
        return xlsx_package(HEADER + PERSON + '<row r="1000000"/>')
    if kind == "one sheet listed 200 times":  # each re-reads the 50,000 elements of its part
        return xlsx_package([HEADER, PERSON] + ["<row/>" * 10_000] * 5, sheets=200)
    if kind == "a shared formula in 1,000 cells":  # tokenized again in each cell
        formula = "+".join(["A1"] * 2_700)
        return xlsx_package(HEADER + f'<row r="2"><c r="B2"><f t="shared" ref="B2:B1001" si="0">{formula}</f></c></row>'
                            + "".join(f'<row r="{i}"><c r="B{i}"><f t="shared" si="0"/></c></row>' for i in range(3, 1002)))
    if kind == "300,000 ranges in attributes":  # one object per range
        ranges = " ".join(f"A{i}" for i in range(1, 10_001))  # 59 KB, under the markup limit
        return xlsx_package(HEADER + PERSON, after_data=30 * (
            f'<conditionalFormatting sqref="{ranges}"><cfRule type="expression" priority="1">'
            "<formula>A1</formula></cfRule></conditionalFormatting>"))
    if kind == "440,000 attributes on a row":  # all in memory at once, twice
        attributes = " ".join(f'a{i:x}=""' for i in range(440_000))
        return xlsx_package(HEADER + f'<row r="2" {attributes}/>')
    if kind == "10 chart sheets of one big chart":  # read even in read-only mode
        return chart_sheets(10, series=1_000)
    raise ValueError(kind)


def chart_sheets(sheets, series):
    """A workbook whose chart sheet, listed ``sheets`` times, shows a chart of ``series``."""
    workbook = Workbook()
    for i in range(10):
        workbook.active.append([i, i * i])
    chart = BarChart()
    chart.add_data(Reference(workbook.active, min_col=2, min_row=1, max_row=10), titles_from_data=True)
    workbook.create_chartsheet("Chart").add_chart(chart)
    saved = io.BytesIO()
    workbook.save(saved)
    out = io.BytesIO()
    with zipfile.ZipFile(saved) as original, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as package:
        for name in original.namelist():
            text = original.read(name).decode()
            if name == "xl/charts/chart1.xml":
                one = re.search("<ser>.*?</ser>", text).group(0)
                text = text.replace(one, one * series)
            if name == "xl/workbook.xml":
                sheet = re.search('<sheet name="Chart"[^>]*/>', text).group(0)
                text = text.replace(sheet, "".join(sheet.replace('"Chart"', f'"Chart{i}"') for i in range(sheets)))
            package.writestr(name, text)
    return out.getvalue()


def refusal(filename, data):
    """read_rows' refusal of ``data``: (its message, the seconds it took)."""
    started = time.perf_counter()
    with pytest.raises(SpreadsheetError) as refused:
        read_rows(filename, data)
    return refused.value.message, time.perf_counter() - started


def peak_megabytes(filename, data):
    """The peak of Python's allocations while read_rows refuses ``data``, in MB (tracemalloc
    slows the read, so it is timed apart)."""
    tracemalloc.start()
    try:
        with pytest.raises(SpreadsheetError):
            read_rows(filename, data)
        return tracemalloc.get_traced_memory()[1] / 1e6
    finally:
        tracemalloc.stop()


@pytest.mark.parametrize("kind, message", [
    ("2M empty rows", TOO_COMPLEX),
    ("1M cells in a row", TOO_COMPLEX),
    ("200 MB shared string", TOO_COMPLEX),
    ("empty rows padded under the ratio", TOO_COMPLEX),
    ("a row at 1,000,000", "goes on past row 100,000"),
    ("one sheet listed 200 times", TOO_COMPLEX),
    ("a shared formula in 1,000 cells", TOO_COMPLEX),
    ("300,000 ranges in attributes", TOO_COMPLEX),
    ("440,000 attributes on a row", TOO_COMPLEX),
    ("10 chart sheets of one big chart", TOO_COMPLEX),
])
def test_a_hostile_xlsx_is_refused_quickly_in_little_memory(kind, message):
    data = bomb(kind)
    assert len(data) <= 1024 * 1024
    said, seconds = refusal("people.xlsx", data)
    assert message in said and seconds < 1, (said, seconds)
    assert peak_megabytes("people.xlsx", data) < 50


@pytest.mark.parametrize("refused, accepted", [
    ('<row r="2">' + "<c/>" * 16_385 + "</row>", '<row r="2">' + "<c/>" * 16_384 + "</row>"),  # Excel's columns
    ('<row r="2" ' + " ".join(f'a{i}=""' for i in range(100)) + "/>",  # 101 attributes with r
     '<row r="2" ' + " ".join(f'a{i}=""' for i in range(99)) + "/>"),  # openpyxl keeps them all
])
def test_a_row_is_refused_past_the_cells_and_attributes_excel_could_write(refused, accepted):
    assert TOO_COMPLEX in refusal("people.xlsx", xlsx_package(HEADER + refused))[0]
    with pytest.raises(SpreadsheetError, match="header but no people"):
        read_rows("people.xlsx", xlsx_package(HEADER + accepted))


def test_the_zip_directory_is_believed_and_checked_before_inflating():
    honest = xlsx_package(HEADER + PERSON)
    assert read_rows("people.xlsx", honest) == [
        {"row_number": 2, "email": "ann@example.com", "groups": "", "first_name": "", "last_name": ""}]
    claiming_more = claiming(honest, "xl/worksheets/sheet1.xml", 3_000_000_000)
    said, seconds = refusal("people.xlsx", claiming_more)
    assert TOO_COMPLEX in said and seconds < 1
    # Claiming less than it holds: zipfile stops at the claimed size, and the CRC fails.
    claiming_less = claiming(bomb("200 MB shared string"), "xl/sharedStrings.xml", 1_000)
    said, seconds = refusal("people.xlsx", claiming_less)
    assert NOT_READABLE in said and seconds < 1
    assert peak_megabytes("people.xlsx", claiming_more) < 50 and peak_megabytes("people.xlsx", claiming_less) < 50


def nul_csv():
    """F8's import case: PostgreSQL refuses a NUL in text, and the old check looked at 4 KB."""
    rows = [f"p{i}@example.com,,First{i},Last{i}" for i in range(200)] + ["evil\x00@example.com,,Eve,Null"]
    return ("email,groups,first name,last name\n" + "\n".join(rows) + "\n").encode()


def test_a_csv_with_a_nul_past_the_first_4_kb_is_refused():
    data = nul_csv()
    assert data.index(b"\x00") > 4096
    said, seconds = refusal("people.csv", data)
    assert "not a spreadsheet" in said and seconds < 1 and peak_megabytes("people.csv", data) < 50


# --- through the upload route ----------------------------------------------------------------

@pytest.fixture
def premium(team):
    team.org.plan = "premium"
    db.session.commit()
    return team.org


def assert_refused_on_the_form(client, org, name, data, message):
    """The upload answers 422 within 2 s, the message on the form, and saves no import."""
    started = time.perf_counter()
    response = client.post_form(f"/o/{org.slug}/imports", {"file": (io.BytesIO(data), name)},
                                content_type="multipart/form-data")
    assert time.perf_counter() - started < 2
    assert response.status_code == 422 and message in response.get_data(as_text=True)
    assert db.session.scalar(db.select(db.func.count(Import.id))) == 0


@pytest.mark.parametrize("name, data, message", [
    ("bomb.xlsx", lambda: bomb("2M empty rows"), TOO_COMPLEX),
    ("nul.csv", nul_csv, "not a spreadsheet"),
])
def test_the_upload_answers_422_with_the_message_and_saves_nothing(client, auth, team, premium, name, data, message):
    auth.login(team.owner)
    assert_refused_on_the_form(client, premium, name, data(), message)


@pytest.fixture(params=["with defusedxml", "without defusedxml"])
def xml_parser(request, monkeypatch):
    """openpyxl parses with defusedxml when it is installed (it refuses entities); without it,
    as when the review ran, with the standard library's parser."""
    if request.param == "without defusedxml":
        monkeypatch.setattr("openpyxl.worksheet._reader.iterparse", ElementTree.iterparse)
    return request.param


def test_an_entity_bomb_is_refused_whichever_parser_openpyxl_uses(client, auth, team, premium, xml_parser):
    data = bomb("billion laughs")
    said, seconds = refusal("lol.xlsx", data)
    assert NOT_READABLE in said and seconds < 1
    assert peak_megabytes("lol.xlsx", data) < 50
    auth.login(team.owner)
    assert_refused_on_the_form(client, premium, "lol.xlsx", data, NOT_READABLE)


# --- what the limits still let in ------------------------------------------------------------

def workbook(rows, columns, extra_sheets=0):
    """An openpyxl workbook of ``rows`` people with ``columns`` columns, all values distinct."""
    book = Workbook()
    sheet = book.active
    sheet.append(["email", "groups", "first name", "last name"] + [f"extra {j}" for j in range(columns - 4)])
    for i in range(rows):
        sheet.append([f"p{i}@example.com", "G", f"First{i}", f"Last{i}"] + [f"value {i}.{j}" for j in range(columns - 4)])
    for n in range(extra_sheets):
        book.create_sheet(f"Notes {n}").append(["anything"])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def test_500_people_with_50_columns_on_the_first_of_30_sheets_are_read():
    rows = read_rows("people.xlsx", workbook(500, 50, extra_sheets=29))
    assert len(rows) == 500 and rows[-1]["email"] == "p499@example.com" and rows[-1]["last_name"] == "Last499"


def test_cells_past_the_50th_column_are_ignored_and_long_cells_cut():
    header = "email,groups,first name,last name," + ",".join(f"extra {j}" for j in range(100))
    row = "ann@example.com,G,Ann," + "L" * 5_000 + "," + ",".join("x" * 10 for _ in range(100))
    [ann] = read_rows("people.csv", f"{header}\n{row}\n".encode())
    assert ann["email"] == "ann@example.com" and ann["last_name"] == "L" * 200
    cells = "".join(f'<c r="{column}2" t="inlineStr"><is><t>x</t></is></c>'
                    for column in (a + b for a in "ABCDEFGH" for b in "ABCDEFGHIJKLMNOPQRSTUVWXYZ"))
    sheet = HEADER + f'<row r="2"><c r="A2" t="inlineStr"><is><t>ann@example.com</t></is></c>{cells}</row>'
    assert [row["email"] for row in read_rows("people.xlsx", xlsx_package(sheet))] == ["ann@example.com"]


def test_empty_rows_and_a_gap_within_the_limit_are_skipped():
    bob = '<row r="90000"><c r="A90000" t="inlineStr"><is><t>bob@example.com</t></is></c></row>'
    [row] = read_rows("people.xlsx", xlsx_package(HEADER + "<row/>" * 5_000 + bob))
    assert row["row_number"] == 90_000 and row["email"] == "bob@example.com"
