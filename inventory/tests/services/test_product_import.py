import tablib

from acorn.dataio import dataset_load
from inventory.models import Product
from inventory.services import product_export_dataset, product_import
from inventory.tests.factories import SupplierFactory

GOOD = (
    "sku,name,gtin,asin,case_pack,hs_code,country_of_origin,is_lot_tracked,safety_stock,"
    "supplier_code\n"
    "A-1,Apple juice,4006381333931,B000000001,6,2009.71,DE,yes,5,SUP\n"
    "A-2,Pear juice,,,12,,,no,0,\n"
)


def _load(text):
    return dataset_load(content=text.encode(), filename="products.csv")


def test_dry_run_then_apply_then_reimport_is_a_no_op(scope):
    SupplierFactory(tenant=scope, code="SUP")
    preview = product_import(tenant=scope, dataset=_load(GOOD), dry_run=True)
    assert [row.action for row in preview.rows] == ["create", "create"]
    assert not Product.objects.exists()
    applied = product_import(tenant=scope, dataset=_load(GOOD), dry_run=False)
    assert applied.applied
    product = Product.objects.get(sku="A-1")
    assert (product.case_pack, product.hs_code, product.supplier.code) == (6, "200971", "SUP")
    again = product_import(tenant=scope, dataset=_load(GOOD), dry_run=False)
    assert [row.action for row in again.rows] == ["unchanged", "unchanged"]


def test_malformed_rows_give_errors_and_change_nothing(scope):
    SupplierFactory(tenant=scope, code="SUP")
    bad = GOOD + "A-3,Bad,12345,,zero,,GERMANY,,-1,NOPE\nA-1,Duplicate,,,,,,,,\n"
    result = product_import(tenant=scope, dataset=_load(bad), dry_run=False)
    assert not result.applied
    errors = {row.line: row.errors for row in result.rows if row.errors}
    assert set(errors) == {4, 5}
    assert errors[4]["case_pack"] == ["Enter a whole number."]
    assert errors[4]["supplier_code"] == ["Unknown supplier NOPE."]
    assert "gtin" in errors[4] and "country_of_origin" in errors[4]
    assert errors[5]["sku"] == ["SKU A-1 appears twice in the file."]
    assert not Product.objects.exists()


def test_export_round_trip_is_unchanged(scope):
    SupplierFactory(tenant=scope, code="SUP")
    product_import(tenant=scope, dataset=_load(GOOD), dry_run=False)
    exported = product_export_dataset(tenant=scope)
    xlsx = dataset_load(content=exported.export("xlsx"), filename="p.xlsx")
    assert isinstance(xlsx, tablib.Dataset)
    result = product_import(tenant=scope, dataset=xlsx, dry_run=False)
    assert {row.action for row in result.rows} == {"unchanged"}
