import pytest

from acorn.exceptions import ConflictError
from inventory.models import Hold, HoldStatus, MovementKind, StockLevel, StockMovement
from inventory.selectors import stock_consistency_check
from inventory.services import (
    stock_hold_consume,
    stock_hold_place,
    stock_hold_release,
    stock_receive,
)
from inventory.tests.factories import ProductFactory, WarehouseFactory

PO = {"source_type": "amazon_po", "source_ref": "PO7"}


@pytest.fixture
def held(scope, product, warehouse):
    stock_receive(tenant=scope, product=product, warehouse=warehouse, quantity=10)
    return stock_hold_place(
        tenant=scope, lines=[{"sku": "ABC-1", "quantity": 6, "line_ref": "1"}],
        idempotency_key="po:PO7", **PO,
    )


def test_consume_writes_shipment_and_closes_hold(scope, product, held):
    """Shipping held units moves stock out and turns the hold into a deduction."""
    movements = stock_hold_consume(
        tenant=scope, lines=[{"sku": "ABC-1", "quantity": 6}], idempotency_key="asn:1", **PO
    )
    assert [(m.kind, m.quantity) for m in movements] == [(MovementKind.SHIPMENT, -6)]
    level = StockLevel.objects.get(product=product)
    assert (level.on_hand, level.held) == (4, 0)
    assert Hold.objects.get().status == HoldStatus.CONSUMED
    # A replay of the same shipment changes nothing
    stock_hold_consume(
        tenant=scope, lines=[{"sku": "ABC-1", "quantity": 6}], idempotency_key="asn:1", **PO
    )
    assert StockMovement.objects.filter(kind=MovementKind.SHIPMENT).count() == 1
    assert stock_consistency_check(tenant=scope) == []


def test_partial_consume_then_release_rest(scope, product, held):
    stock_hold_consume(
        tenant=scope, lines=[{"sku": "ABC-1", "quantity": 4}], idempotency_key="asn:1", **PO
    )
    stock_hold_release(tenant=scope, reason="cancelled", **PO)
    level = StockLevel.objects.get(product=product)
    assert (level.on_hand, level.held) == (6, 0)
    assert Hold.objects.get().status == HoldStatus.CLOSED
    assert stock_consistency_check(tenant=scope) == []


def test_release_with_key_is_replay_safe(scope, product, held):
    for _ in range(2):
        stock_hold_release(
            tenant=scope, lines=[{"sku": "ABC-1", "quantity": 2}], idempotency_key="rel:1", **PO
        )
    assert StockLevel.objects.get(product=product).held == 4


def test_shipping_more_than_held_is_refused(scope, product, held):
    with pytest.raises(ConflictError, match="ABC-1: 7 to ship but only 6 held for amazon_po PO7."):
        stock_hold_consume(
            tenant=scope, lines=[{"sku": "ABC-1", "quantity": 7}], idempotency_key="asn:2", **PO
        )


def test_consume_takes_first_expiring_lot(scope, warehouse):
    import datetime as dt

    product = ProductFactory(tenant=scope, sku="LOT-1", is_lot_tracked=True)
    second = WarehouseFactory(tenant=scope, code="B")
    stock_receive(tenant=scope, product=product, warehouse=warehouse, quantity=5,
                  lot_number="L-LATE", expires_on=dt.date(2031, 1, 1))
    stock_receive(tenant=scope, product=product, warehouse=second, quantity=5,
                  lot_number="L-EARLY", expires_on=dt.date(2030, 1, 1))
    stock_hold_place(tenant=scope, lines=[{"sku": "LOT-1", "quantity": 7}],
                     idempotency_key="h", **PO)
    movements = stock_hold_consume(
        tenant=scope, lines=[{"sku": "LOT-1", "quantity": 7}], idempotency_key="s", **PO
    )
    assert [(m.lot.number, m.quantity) for m in movements] == [("L-EARLY", -5), ("L-LATE", -2)]
    assert stock_consistency_check(tenant=scope) == []
