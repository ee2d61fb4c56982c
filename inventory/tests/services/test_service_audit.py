"""Each dashboard write leaves its audit entry from the service itself, so
a caller other than the dashboard (an API, a task, a shell) leaves it too."""

import pytest
from django.contrib.auth import get_user_model

from acorn.models import AuditAction, AuditEntry
from inventory import services
from inventory.models import Hold, HoldKind, HoldStatus, PlanStatus, PurchasePlanLine

pytestmark = pytest.mark.django_db


@pytest.fixture
def user(db):
    return get_user_model().objects.create_user(username="ops", password="x")


def _entries(scope, **filters):
    return list(AuditEntry.objects.filter(tenant=scope, **filters).order_by("pk"))


def test_product_create_records_its_audit_entry(scope, user):
    product = services.product_create(tenant=scope, sku="NEW-1", name="New", actor=user)
    [entry] = _entries(scope, object_type="inventory.Product", object_id=str(product.pk))
    assert (entry.action, entry.summary, entry.actor) == (
        AuditAction.CREATE, "Product created", user
    )
    assert entry.after["sku"] == "NEW-1"


def test_warehouse_create_records_its_audit_entry(scope, user):
    warehouse = services.warehouse_create(tenant=scope, code="WEST", name="West", actor=user)
    [entry] = _entries(scope, object_type="inventory.Warehouse", object_id=str(warehouse.pk))
    assert (entry.action, entry.summary, entry.actor) == (
        AuditAction.CREATE, "Warehouse created", user
    )


@pytest.mark.parametrize(("call", "kind", "expected"), [
    (lambda **kw: services.stock_receive(quantity=7, reason="delivery", **kw), "receipt", "+7"),
    (lambda **kw: services.stock_adjust(quantity=-2, reason="damaged", **kw), "adjustment", "-2"),
    (lambda **kw: services.stock_count(counted_quantity=4, reason="cycle", **kw), "count", "+4"),
])
def test_stock_movement_services_record_their_audit_entry(
    scope, user, product, warehouse, call, kind, expected
):
    if kind == "adjustment":
        services.stock_receive(tenant=scope, product=product, warehouse=warehouse, quantity=5)
    call(tenant=scope, product=product, warehouse="MAIN", actor=user)
    entry = _entries(scope, object_type="inventory.Product", object_id=str(product.pk),
                     action=AuditAction.ACTION)[-1]
    assert entry.summary == f"Stock {kind} at MAIN: {expected}"
    assert entry.after["kind"] == kind and entry.after["warehouse"] == "MAIN"
    assert entry.actor == user


def test_manual_hold_place_and_release_record_their_audit_entries(
    scope, user, product, warehouse
):
    services.stock_receive(tenant=scope, product=product, warehouse=warehouse, quantity=5)
    hold = services.stock_hold_place(
        tenant=scope, lines=[{"product": product, "quantity": 2}], source_type="manual",
        source_ref="manual:k1", idempotency_key="manual:k1", kind=HoldKind.MANUAL,
        note="QA", actor=user,
    )
    services.hold_release(tenant=scope, hold_id=hold.pk, reason="done", actor=user)
    entries = _entries(scope, object_type="inventory.Hold", object_id=str(hold.pk))
    assert [(e.action, e.summary) for e in entries] == [
        (AuditAction.CREATE, "Manual hold placed"), (AuditAction.UPDATE, "Hold released"),
    ]
    assert entries[1].after["status"] == HoldStatus.RELEASED
    assert Hold.objects.get(pk=hold.pk).status == HoldStatus.RELEASED


def test_purchase_order_holds_leave_the_audit_to_their_source_document(
    scope, product, warehouse
):
    services.stock_receive(tenant=scope, product=product, warehouse=warehouse, quantity=5)
    services.stock_hold_place(
        tenant=scope, lines=[{"product": product, "quantity": 2}], source_type="amazon_po",
        source_ref="po:1", idempotency_key="po:1",
    )
    assert _entries(scope, object_type="inventory.Hold") == []


def test_purchase_plan_refresh_and_review_record_their_audit_entries(scope, user, product):
    count = services.purchase_plan_refresh(tenant=scope, actor=user)
    line = PurchasePlanLine.objects.get(tenant=scope, product=product)
    services.purchase_plan_review(
        tenant=scope, line_id=line.pk, status=PlanStatus.APPROVED, actor=user
    )
    refresh = _entries(scope, object_type="inventory.PurchasePlanLine",
                       action=AuditAction.ACTION)
    assert [e.summary for e in refresh] == [f"Purchase plan refreshed ({count} products)"]
    [review] = _entries(scope, object_type="inventory.PurchasePlanLine",
                        action=AuditAction.UPDATE)
    assert review.summary == f"Plan line {PlanStatus.APPROVED}"
    assert review.after["status"] == PlanStatus.APPROVED
