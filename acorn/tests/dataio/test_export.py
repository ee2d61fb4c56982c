"""Formula-safe exports (issue 9, defect 5)."""

import io
from decimal import Decimal

import openpyxl
import pytest

from acorn.dataio import dataset_response, export_dataset, formula_safe


@pytest.mark.parametrize(("value", "expected"), [
    ("=HYPERLINK(\"http://x\")", "'=HYPERLINK(\"http://x\")"),
    ("+1+1", "'+1+1"), ("-2+3", "'-2+3"), ("@SUM(A1)", "'@SUM(A1)"),
    ("\tcmd", "'\tcmd"), ("\rcmd", "'\rcmd"),
    ("'=already", "'=already"), ("plain", "plain"), ("-5", "-5"), ("-1.25", "-1.25"),
    (-5, -5), (Decimal("-1.5"), Decimal("-1.5")), (None, None), (True, True),
])
def test_formula_safe(value, expected):
    assert formula_safe(value) == expected


def test_export_escapes_in_csv_and_xlsx_and_keeps_numbers_numeric():
    dataset = export_dataset(headers=["name", "qty"], rows=[["=1+1", -5], ["@x", Decimal("2.5")]])
    csv_text = dataset_response(dataset, name="x", file_format="csv").content.decode()
    assert csv_text.splitlines() == ["name,qty", "'=1+1,-5", "'@x,2.5"]
    workbook = openpyxl.load_workbook(
        io.BytesIO(dataset_response(dataset, name="x", file_format="xlsx").content)
    )
    sheet = workbook.active
    # no cell is a formula; the negative quantity is still a number
    assert [(c.value, c.data_type) for c in sheet[2]] == [("'=1+1", "s"), (-5, "n")]


def test_a_hand_built_dataset_is_escaped_by_the_response():
    import tablib

    dataset = tablib.Dataset(["=cmd"], headers=["name"])
    response = dataset_response(dataset, name="x", file_format="csv")
    assert response.content.decode().splitlines() == ["name", "'=cmd"]
    assert response["Content-Disposition"] == 'attachment; filename="x.csv"'
