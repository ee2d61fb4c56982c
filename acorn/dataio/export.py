"""Exports as CSV or XLSX, every text cell formula-safe.

A spreadsheet treats a cell that begins with ``=``, ``+``, ``-`` or ``@``
(and, in some programs, a tab or carriage return) as a formula, so a
product name such as ``=HYPERLINK(...)`` typed by anyone with import
rights would run on the computer of whoever opens the export. OWASP's
advice (https://owasp.org/www-community/attacks/CSV_Injection) is to
prefix such cells with a single quote; numbers stay numbers, so a real
negative quantity is still a number in the sheet.
"""

from __future__ import annotations

import datetime
import re
from decimal import Decimal

import tablib
from django.http import HttpResponse

FORMULA_PREFIXES = frozenset("=+-@\t\r")
# A text cell that is only a plain number is inert in every spreadsheet.
PLAIN_NUMBER = re.compile(r"[+-]?\d+(\.\d+)?")
CONTENT_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def formula_safe(value):
    """``value`` as written to an export: text that a spreadsheet would
    read as a formula gets a leading single quote; numbers, dates and
    booleans pass through."""
    if value is None or isinstance(value, bool | int | float | Decimal | datetime.date):
        return value
    text = str(value)
    if text[:1] in FORMULA_PREFIXES and not PLAIN_NUMBER.fullmatch(text):
        return "'" + text
    return text


def export_dataset(*, headers: list[str], rows) -> tablib.Dataset:
    """A dataset whose every cell went through ``formula_safe``; build
    every export with it so no export can forget."""
    dataset = tablib.Dataset(headers=[formula_safe(h) for h in headers])
    for row in rows:
        dataset.append([formula_safe(value) for value in row])
    return dataset


def dataset_response(dataset: tablib.Dataset, *, name: str, file_format: str) -> HttpResponse:
    """A download of ``dataset`` as ``name.csv`` or ``name.xlsx``.

    Every cell is escaped again here, so a dataset built by hand cannot
    leak a formula either (escaping is idempotent: an escaped cell starts
    with a quote).
    """
    file_format = file_format if file_format in CONTENT_TYPES else "csv"
    safe = export_dataset(headers=list(dataset.headers or []), rows=dataset)
    response = HttpResponse(safe.export(file_format), content_type=CONTENT_TYPES[file_format])
    response["Content-Disposition"] = f'attachment; filename="{name}.{file_format}"'
    return response
