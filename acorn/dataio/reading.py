"""Reading an uploaded CSV or XLSX file into a dataset, within bounds.

Every bound is checked before the work it protects: the upload's size
before reading it, an XLSX's declared member sizes and compression ratios
before unzipping (Python's zipfile never inflates a member past its
declared size, and a member whose data does not match fails its CRC),
the row count and each cell's length while streaming (openpyxl's
read-only mode parses the sheet row by row). An error names the row and
column and quotes at most ``ECHO_CHARS`` of a cell.
"""

from __future__ import annotations

import codecs
import csv
import io
import zipfile
from collections.abc import Callable, Iterator
from xml.etree.ElementTree import ParseError

import tablib
from defusedxml.ElementTree import iterparse
from django.utils.translation import gettext_lazy as _
from openpyxl import load_workbook

from acorn.exceptions import ApplicationError

# 20k catalog rows of 13 columns are about 3 MB of CSV and less as XLSX;
# 10 MiB leaves room for long names and is read in well under a second.
MAX_UPLOAD_BYTES = 10 * 1024 * 1024
# An import is parsed in one request or task; 20k rows check in seconds.
MAX_ROWS = 20_000
# Columns beyond this are not read: no importer has more than 13.
MAX_COLUMNS = 50
# The longest field any importer writes is a 300-character name.
MAX_CELL_CHARS = 1_000
# The unzipped members of an XLSX together: 20k rows of inline strings
# are about 20 MB of XML.
MAX_XLSX_UNZIPPED_BYTES = 64 * 1024 * 1024
# Spreadsheet XML compresses 5-20x; a zip bomb compresses 1000x. Small
# members (styles, a near-empty sheet) are exempt: their ratio says little.
MAX_XLSX_RATIO = 200
XLSX_RATIO_EXEMPT_BYTES = 1024 * 1024
ECHO_CHARS = 40
# Progress is reported every this many rows (a cheap UPDATE each time).
PROGRESS_EVERY_ROWS = 1_000

FILE_TOO_LARGE = _("The file is larger than {limit} MB.")
UNREADABLE = _("The file could not be read as {format}.")
NOT_TEXT = _("The CSV file is not UTF-8 or UTF-16 text.")
NUL_BYTES = _("The file contains NUL bytes; save it again as CSV or XLSX.")
TOO_MANY_ROWS = _("The file has more than {max} rows; split it.")
CELL_TOO_LONG = _(
    "Row {line}, column {column}: a cell has {length} characters; the limit is "
    "{limit} (it starts “{start}”)."
)
XLSX_TOO_LARGE = _("The XLSX file unpacks to more than {limit} MB.")
XLSX_BOMB = _("The XLSX file is compressed {ratio}:1, more than a spreadsheet can be.")
NO_HEADER = _("The file has no header row.")
DUPLICATE_COLUMN = _("The column {column} appears twice in the header row.")


def echo(value, limit: int = ECHO_CHARS) -> str:
    """At most ``limit`` characters of a cell, for an error message."""
    text = "" if value is None else str(value)
    return text if len(text) <= limit else text[:limit] + "\u2026"


def upload_read(upload) -> bytes:
    """The bytes of an uploaded file, refused unread when too large.

    The declared size is checked first; at most one byte more than the
    limit is read, in case it lies.
    """
    if upload.size is not None and upload.size > MAX_UPLOAD_BYTES:
        raise ApplicationError(str(FILE_TOO_LARGE).format(limit=MAX_UPLOAD_BYTES // 2**20))
    content = upload.read(MAX_UPLOAD_BYTES + 1)
    if len(content) > MAX_UPLOAD_BYTES:
        raise ApplicationError(str(FILE_TOO_LARGE).format(limit=MAX_UPLOAD_BYTES // 2**20))
    return content


def file_format_of(filename: str) -> str:
    return "xlsx" if filename.lower().endswith(".xlsx") else "csv"


def dataset_load(*, content: bytes, filename: str,
                 progress: Callable[[int], None] | None = None) -> tablib.Dataset:
    """A tablib dataset (lower-case headers) from a CSV or XLSX upload.

    Raises ``ApplicationError`` with a message fit for the user for every
    file it will not read; ``progress(rows_read)`` is called while rows
    are streamed.
    """
    if len(content) > MAX_UPLOAD_BYTES:
        raise ApplicationError(str(FILE_TOO_LARGE).format(limit=MAX_UPLOAD_BYTES // 2**20))
    if file_format_of(filename) == "xlsx":
        rows = _xlsx_rows(content)
    else:
        rows = _csv_rows(content)
    try:
        header = next(rows, None)
    except (csv.Error, ValueError, KeyError, zipfile.BadZipFile, EOFError) as exc:
        raise ApplicationError(
            str(UNREADABLE).format(format=file_format_of(filename).upper())
        ) from exc
    if header is None or not any(cell_header(h) for h in header):
        raise ApplicationError(str(NO_HEADER))
    headers = [cell_header(h) for h in header]
    while headers and not headers[-1]:
        headers.pop()
    named = [h for h in headers if h]
    for column in named:
        if named.count(column) > 1:
            raise ApplicationError(str(DUPLICATE_COLUMN).format(column=echo(column)))
    _cells_check(header, line=1, headers=headers)
    width = len(headers)
    data = []
    try:
        for line, row in enumerate(rows, start=2):
            if not any(cell not in (None, "") for cell in row):
                continue  # blank lines (and Excel's formatted empty rows)
            if len(data) >= MAX_ROWS:
                raise ApplicationError(str(TOO_MANY_ROWS).format(max=MAX_ROWS))
            _cells_check(row, line=line, headers=headers)
            cells = list(row[:width])
            cells.extend([""] * (width - len(cells)))
            data.append(cells)
            if progress is not None and len(data) % PROGRESS_EVERY_ROWS == 0:
                progress(len(data))
    except (csv.Error, ValueError, KeyError, zipfile.BadZipFile, EOFError) as exc:
        raise ApplicationError(
            str(UNREADABLE).format(format=file_format_of(filename).upper())
        ) from exc
    dataset = tablib.Dataset(*data, headers=headers)
    if progress is not None:
        progress(len(data))
    return dataset


def cell_header(value) -> str:
    return "" if value is None else str(value).strip().lstrip("\ufeff").strip().lower()


def _cells_check(row, *, line: int, headers: list[str]) -> None:
    for index, cell in enumerate(row):
        if isinstance(cell, str) and len(cell) > MAX_CELL_CHARS:
            column = headers[index] if index < len(headers) and headers[index] else index + 1
            raise ApplicationError(str(CELL_TOO_LONG).format(
                line=line, column=echo(column), length=f"{len(cell):,}",
                limit=f"{MAX_CELL_CHARS:,}", start=echo(cell),
            ))


def _csv_text(content: bytes) -> str:
    if b"\x00" in content and not content.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise ApplicationError(str(NUL_BYTES))
    try:
        if content.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
            text = content.decode("utf-16")
        else:
            text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ApplicationError(str(NOT_TEXT)) from None
    if "\x00" in text:
        raise ApplicationError(str(NUL_BYTES))
    return text


def _csv_rows(content: bytes) -> Iterator[list]:
    text = _csv_text(content)
    # The csv module caps a field at 128 KiB itself (csv.Error), so even a
    # single-line file cannot build one huge cell in memory.
    yield from csv.reader(io.StringIO(text, newline=""))


def _xlsx_check(content: bytes) -> None:
    try:
        archive = zipfile.ZipFile(io.BytesIO(content))
        members = archive.infolist()
    except (zipfile.BadZipFile, ValueError, EOFError):
        raise ApplicationError(str(UNREADABLE).format(format="XLSX")) from None
    _xlsx_sizes_check(members)
    for member in members:
        if member.filename.startswith("xl/worksheets/") and member.filename.endswith(".xml"):
            _xlsx_sheet_scan(archive, member)


def _xlsx_sheet_scan(archive: zipfile.ZipFile, member: zipfile.ZipInfo) -> None:
    """Stream one sheet's XML in constant memory, counting rows and cells.

    openpyxl's read-only mode streams rows, but when a sheet has no
    ``<dimension>`` element it first walks the whole sheet keeping every
    element (a memory bomb for a hostile file); this pass refuses such a
    sheet at its ``MAX_ROWS + 1``-th row, before openpyxl opens it.
    """
    max_cells = (MAX_ROWS + 1) * MAX_COLUMNS
    rows = cells = 0
    parents, cell_ref = [], ""
    try:
        with archive.open(member) as source:
            for event, element in iterparse(source, events=("start", "end")):
                tag = element.tag.rsplit("}", 1)[-1]
                if event == "start":
                    parents.append(element)
                    if tag == "c":
                        cell_ref = element.get("r", "")
                    continue
                parents.pop()
                if tag == "row":
                    rows += 1
                    if rows > MAX_ROWS + 1:  # the header row plus MAX_ROWS
                        raise ApplicationError(str(TOO_MANY_ROWS).format(max=MAX_ROWS))
                elif tag == "c":
                    cells += 1
                    if cells > max_cells:
                        raise ApplicationError(str(TOO_MANY_ROWS).format(max=MAX_ROWS))
                elif tag in ("t", "v") and element.text and len(element.text) > MAX_CELL_CHARS:
                    raise ApplicationError(str(CELL_TOO_LONG).format(
                        line=rows + 1, column=echo(cell_ref.rstrip("0123456789") or "?", 3),
                        length=f"{len(element.text):,}", limit=f"{MAX_CELL_CHARS:,}",
                        start=echo(element.text),
                    ))
                if parents and tag in ("row", "c"):
                    parents[-1].remove(element)
    except (ParseError, zipfile.BadZipFile, EOFError, ValueError) as exc:
        raise ApplicationError(str(UNREADABLE).format(format="XLSX")) from exc


def _xlsx_sizes_check(members: list[zipfile.ZipInfo]) -> None:
    total = 0
    for member in members:
        total += member.file_size
        if total > MAX_XLSX_UNZIPPED_BYTES:
            raise ApplicationError(
                str(XLSX_TOO_LARGE).format(limit=MAX_XLSX_UNZIPPED_BYTES // 2**20)
            )
        if member.file_size > XLSX_RATIO_EXEMPT_BYTES:
            ratio = member.file_size // max(member.compress_size, 1)
            if ratio > MAX_XLSX_RATIO:
                raise ApplicationError(str(XLSX_BOMB).format(ratio=f"{ratio:,}"))


def _xlsx_rows(content: bytes) -> Iterator[tuple]:

    _xlsx_check(content)
    try:
        workbook = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
        sheet = workbook.worksheets[0]
    except Exception as exc:  # noqa: BLE001 - openpyxl raises many kinds
        raise ApplicationError(str(UNREADABLE).format(format="XLSX")) from exc
    try:
        yield from sheet.iter_rows(max_col=MAX_COLUMNS, values_only=True)
    except ApplicationError:
        raise
    except Exception as exc:  # noqa: BLE001 - malformed sheet XML
        raise ValueError(str(exc)[:200]) from exc
    finally:
        workbook.close()
