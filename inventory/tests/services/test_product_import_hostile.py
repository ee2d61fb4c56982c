"""Hostile product files (issue 9, defects 3 and 5): huge numbers and bad
identifiers are row errors that change nothing; exports are formula-safe
and import back unchanged."""

import csv
import io

import pytest

from acorn.dataio import dataset_load, export_dataset
from inventory.models import Product
from inventory.services import product_export_dataset, product_import
from inventory.tests.factories import ProductFactory

HEADER = "sku,name,gtin,asin,case_pack,weight_grams,safety_stock\n"


@pytest.fixture
def import_text(scope):
    def run(text, dry_run=False):
        dataset = dataset_load(content=(HEADER + text).encode(), filename="p.csv")
        return product_import(tenant=scope, dataset=dataset, dry_run=dry_run)
    return run


@pytest.mark.parametrize(("cells", "column", "message"), [
    # 1e1000000 cost ~25 s of CPU before (int() of a million-digit number)
    ("A-1,Juice,,,1e1000000,,0", "case_pack", "Enter a whole number."),
    # 1e100000 raised ValueError (str() of a 100,001-digit int): a 500
    ("A-1,Juice,,,1e100000,,0", "case_pack", "Enter a whole number."),
    ("A-1,Juice,,,1,1e100000,0", "weight_grams", "Enter a number."),
    ("A-1,Juice,,,1,,-1e100000", "safety_stock", "Enter a whole number."),
    ("A-1,Juice,,,1,NaN,0", "weight_grams", "Enter a number."),
    ("A-1,Juice,,,99999999999,,0", "case_pack", "Enter a number between 1 and 2147483647."),
    ("A-1,Juice,4006381333932,,1,,0", "gtin",
     "A GTIN has 8, 12, 13 or 14 digits and a valid GS1 check digit."),
    ("A-1,Juice,,B00000001,1,,0", "asin", "An ASIN has 10 letters or digits."),
    ("=HYPERLINK(1),Juice,,,1,,0", "sku", "A SKU has 1 to 64"),
])
def test_a_hostile_cell_is_a_row_error_and_nothing_is_written(import_text, cells, column,
                                                             message):
    # Given a good row and a hostile one
    result = import_text("B-1,Good,4006381333931,B000000001,1,,0\n" + cells + "\n")
    # Then the hostile row has a clear error and nothing was written
    assert not result.applied
    errors = {row.line: row.errors for row in result.rows if row.errors}
    assert list(errors) == [3]
    assert str(errors[3][column][0]).startswith(message)
    assert not Product.objects.exists()


def test_export_escapes_formulas_and_imports_back_unchanged(scope):
    # Given products whose names a spreadsheet would run as formulas
    ProductFactory(tenant=scope, sku="A-1", name='=HYPERLINK("http://evil","x")')
    ProductFactory(tenant=scope, sku="A-2", name="@SUM(1+1)")
    ProductFactory(tenant=scope, sku="A-3", name="-2+3")
    # When they are exported
    dataset = product_export_dataset(tenant=scope)
    rows = list(csv.reader(io.StringIO(dataset.export("csv"))))
    names = {row[0]: row[1] for row in rows[1:]}
    # Then every such cell starts with a quote
    assert names == {"A-1": "'=HYPERLINK(\"http://evil\",\"x\")", "A-2": "'@SUM(1+1)",
                     "A-3": "'-2+3"}
    # And the export imports back with nothing changed, as CSV and XLSX
    for file_format in ("csv", "xlsx"):
        exported = dataset.export(file_format)
        exported = exported.encode() if isinstance(exported, str) else exported
        again = dataset_load(content=exported, filename=f"p.{file_format}")
        result = product_import(tenant=scope, dataset=again, dry_run=False)
        assert {row.action for row in result.rows} == {"unchanged"}, result.rows
    assert Product.objects.get(sku="A-1").name == '=HYPERLINK("http://evil","x")'


def test_export_dataset_keeps_numbers_numeric():
    dataset = export_dataset(headers=["qty"], rows=[[-5]])
    assert dataset[0] == (-5,)
