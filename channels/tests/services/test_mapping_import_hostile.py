"""Hostile SKU-mapping rows (issue 9, defects 3 and 5): bad identifiers and
huge numbers are row errors that change nothing; the export is
formula-safe."""

import csv
import io

import pytest

from acorn.dataio import dataset_load
from channels.models import SkuMapping
from channels.services.mappings import mapping_export_dataset, mapping_import
from channels.tests.factories import AmazonVendorAccountFactory, SkuMappingFactory
from inventory.tests.factories import ProductFactory

HEADER = "account,asin,vendor_product_id,sku,order_unit,units_per_order_unit\n"


@pytest.fixture
def world(scope):
    AmazonVendorAccountFactory(tenant=scope, name="US")
    ProductFactory(tenant=scope, sku="A-1")
    return scope


@pytest.mark.parametrize(("cells", "column", "message"), [
    ("US,B0AAAA000,,A-1,Eaches,1", "asin", "An ASIN has 10 letters or digits."),
    ("US,=B0AAAA00,,A-1,Eaches,1", "asin", "An ASIN has 10 letters or digits."),
    ("US,B0AAAA0002,,=cmd|' /C calc'!A0,Eaches,1", "sku", "A SKU has 1 to 64"),
    ("US,B0AAAA0002,,A-1,Eaches,1e100000", "units_per_order_unit",
     "Enter a whole number of at least 1."),
    ("US,B0AAAA0002,,A-1,Eaches,1e1000000", "units_per_order_unit",
     "Enter a whole number of at least 1."),
    ("US,B0AAAA0002,V\x07,A-1,Eaches,1", "vendor_product_id",
     "A vendor product id has at most 64 printable characters."),
])
def test_a_hostile_cell_is_a_row_error_and_nothing_is_written(world, cells, column, message):
    # Given a good row and a hostile one
    text = HEADER + "US,B0AAAA0001,V1,A-1,Eaches,1\n" + cells + "\n"
    dataset = dataset_load(content=text.encode(), filename="m.csv")
    # When the file is applied
    result = mapping_import(tenant=world, dataset=dataset, dry_run=False)
    # Then only the hostile row has an error, and nothing was written
    errors = {row.line: row.errors for row in result.rows if row.errors}
    assert list(errors) == [3]
    assert errors[3][column][0].startswith(message)
    assert not result.applied and not SkuMapping.objects.exists()


def test_export_is_formula_safe_and_round_trips(world):
    # Given a mapping whose vendor product id would start a formula
    account = AmazonVendorAccountFactory(tenant=world, name="=EU")
    SkuMappingFactory(tenant=world, account=account, asin="B0AAAA0009",
                      vendor_product_id="@V1", product=ProductFactory(tenant=world, sku="B-1"))
    dataset = mapping_export_dataset(tenant=world)
    rows = list(csv.reader(io.StringIO(dataset.export("csv"))))
    # Then the cells start with a quote
    assert rows[1][:3] == ["'=EU", "B0AAAA0009", "'@V1"]
    # And the export imports back unchanged
    again = dataset_load(content=dataset.export("csv").encode(), filename="m.csv")
    result = mapping_import(tenant=world, dataset=again, dry_run=False)
    assert [row.action for row in result.rows] == ["unchanged"], result.rows
