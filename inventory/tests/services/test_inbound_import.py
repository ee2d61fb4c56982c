"""Inbound supply imported from CSV/XLSX (issue 8): a dry run with
per-row errors, all rows or none, idempotent by (reference, SKU)."""

import io
from datetime import date, timedelta

import pytest
import tablib
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from acorn.dataio import ImportAction, dataset_load
from acorn.models import AuditEntry, Role
from acorn.tenancy import tenant_scope
from inventory.models import InboundStatus, InboundSupply
from inventory.services import inbound_supply_import
from inventory.tests.factories import ProductFactory, WarehouseFactory

HEADER = "reference,sku,warehouse,quantity,expected_on\n"


@pytest.fixture
def catalog(scope):
    WarehouseFactory(tenant=scope, code="MAIN")
    ProductFactory(tenant=scope, sku="TEA-100")
    ProductFactory(tenant=scope, sku="TEA-200")
    return scope


def _import(tenant, text, dry_run=False):
    dataset = dataset_load(content=(HEADER + text).encode(), filename="inbound.csv")
    return inbound_supply_import(tenant=tenant, dataset=dataset, dry_run=dry_run)


def test_dry_run_then_apply_then_reimport_writes_nothing(catalog):
    due = (timezone.now().date() + timedelta(days=20)).isoformat()
    text = f"SPO-1,TEA-100,MAIN,40,{due}\nSPO-1,TEA-200,MAIN,12,{due}\n"
    # A dry run says what would happen and writes nothing
    result = _import(catalog, text, dry_run=True)
    assert [row.action for row in result.rows] == [ImportAction.CREATE] * 2
    assert not result.applied and not InboundSupply.objects.exists()
    # Applied, both lines exist
    assert _import(catalog, text).applied
    assert sorted(InboundSupply.objects.values_list("product__sku", "quantity")) == [
        ("TEA-100", 40), ("TEA-200", 12)]
    # The same file again: every row unchanged
    again = _import(catalog, text)
    assert [row.action for row in again.rows] == [ImportAction.UNCHANGED] * 2
    # A changed quantity updates that line only, keyed by (reference, SKU)
    changed = _import(catalog, f"SPO-1,TEA-100,MAIN,55,{due}\nSPO-1,TEA-200,MAIN,12,{due}\n")
    assert [row.action for row in changed.rows] == [ImportAction.UPDATE, ImportAction.UNCHANGED]
    assert changed.rows[0].changes == {"quantity": "55"}
    assert InboundSupply.objects.count() == 2
    assert InboundSupply.objects.get(product__sku="TEA-100").quantity == 55


@pytest.mark.parametrize(("cells", "column", "message"), [
    ("SPO-2,NOPE,MAIN,5,2027-06-01", "sku", "Unknown SKU NOPE."),
    ("SPO-2,TEA-100,ELSEWHERE,5,2027-06-01", "warehouse", "Unknown warehouse ELSEWHERE."),
    ("SPO-2,TEA-100,MAIN,1e1000000,2027-06-01", "quantity", "Enter a whole number."),
    ("SPO-2,TEA-100,MAIN,0,2027-06-01", "quantity", "Enter a number between 1"),
    ("SPO-2,TEA-100,MAIN,5,31/02/2027", "expected_on", "Use a date as YYYY-MM-DD."),
    ("SPO-2,TEA-100,MAIN,5,2205-01-01", "expected_on", "Expect a date before"),
    (",TEA-100,MAIN,5,2027-06-01", "reference", "This field cannot be blank."),
    ("SPO-1,TEA-100,MAIN,5,2027-06-01", "reference", "Reference SPO-1 with SKU TEA-100 appears"),
    ("=HYPERLINK(1),=cmd|' /C calc'!A0,MAIN,5,2027-06-01", "sku", "Unknown SKU"),
])
def test_a_hostile_row_is_a_row_error_and_nothing_is_written(catalog, cells, column, message):
    result = _import(catalog, "SPO-1,TEA-100,MAIN,40,2027-06-01\n" + cells + "\n")
    assert not result.applied
    errors = {row.line: row.errors for row in result.rows if row.errors}
    assert list(errors) == [3]
    assert str(errors[3][column][0]).startswith(message)
    assert not InboundSupply.objects.exists()


def test_missing_columns_are_refused_clearly(catalog):
    dataset = dataset_load(content=b"reference,sku\nA,TEA-100\n", filename="x.csv")
    with pytest.raises(Exception, match="Missing columns: warehouse, quantity, expected_on"):
        inbound_supply_import(tenant=catalog, dataset=dataset)


def test_a_received_line_reimported_unchanged_stays_received(catalog):
    _import(catalog, "SPO-1,TEA-100,MAIN,40,2027-06-01\n")
    InboundSupply.objects.update(status=InboundStatus.RECEIVED)
    result = _import(catalog, "SPO-1,TEA-100,MAIN,40,2027-06-01\n")
    assert result.rows[0].action == ImportAction.UNCHANGED
    assert InboundSupply.objects.get().status == InboundStatus.RECEIVED


@pytest.mark.django_db
def test_operations_import_an_xlsx_from_the_inbound_page(member_client, tenant):
    with tenant_scope(tenant):
        WarehouseFactory(tenant=tenant, code="MAIN")
        ProductFactory(tenant=tenant, sku="TEA-100")
    ops = member_client(tenant, Role.OPERATIONS)
    listing = ops.get(reverse("inventory:inbound_supply_list", args=[tenant.slug]))
    url = reverse("inventory:inbound_supply_import", args=[tenant.slug])
    assert url in listing.content.decode()
    book = tablib.Dataset(headers=["reference", "sku", "warehouse", "quantity", "expected_on"])
    book.append(["SPO-9", "TEA-100", "MAIN", 30, date(2027, 3, 1)])
    content = book.export("xlsx")

    def upload(apply):
        data = {"file": SimpleUploadedFile("inbound.xlsx", io.BytesIO(content).read())}
        if apply:
            data["apply"] = "on"
        return ops.post(url, data)

    preview = upload(apply=False)
    assert preview.status_code == 200 and "SPO-9 TEA-100" in preview.content.decode()
    with tenant_scope(tenant):
        assert not InboundSupply.objects.exists()
    assert upload(apply=True).status_code == 200
    with tenant_scope(tenant):
        line = InboundSupply.objects.get()
        assert (line.reference, line.quantity, line.expected_on) == ("SPO-9", 30, date(2027, 3, 1))
        assert AuditEntry.objects.filter(object_type="inventory.InboundSupply").exists()
