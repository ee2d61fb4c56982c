import pytest

from acorn.exceptions import ConflictError
from inventory.models import Hold, HoldLine, StockLevel
from inventory.selectors import atp_get, stock_consistency_check
from inventory.services import (
    InsufficientStockError,
    stock_hold_place,
    stock_receive,
    stock_reserve,
)
from inventory.services.holds import KEY_REUSED
from inventory.tests.factories import ProductFactory


def _receive(tenant, product, warehouse, quantity):
    stock_receive(tenant=tenant, product=product, warehouse=warehouse, quantity=quantity)


def test_hold_reduces_atp_and_marks_outbox(scope, product, warehouse):
    """A PO hold takes units off every channel's ATP and records the change."""
    # Given 10 units on hand
    _receive(scope, product, warehouse, 10)
    # When 4 are held for a PO line
    hold = stock_hold_place(
        tenant=scope, lines=[{"sku": "ABC-1", "quantity": 4, "line_ref": "1"}],
        source_type="amazon_po", source_ref="PO1", idempotency_key="po:PO1:1",
        channel="amazon_vendor",
    )
    # Then 6 remain available and the level agrees with the hold lines
    assert hold.lines.get().open_quantity == 4
    assert atp_get(tenant=scope, channel="web_store", product_id=product.pk).available == 6
    assert stock_consistency_check(tenant=scope) == []


def test_replay_with_same_key_holds_once(scope, product, warehouse):
    """Replaying a placement returns the first hold and holds nothing more."""
    _receive(scope, product, warehouse, 10)
    kwargs = dict(
        tenant=scope, lines=[{"sku": "ABC-1", "quantity": 3}], source_type="amazon_po",
        source_ref="PO1", idempotency_key="po:PO1:1",
    )
    first = stock_hold_place(**kwargs)
    second = stock_hold_place(**kwargs)
    assert first.pk == second.pk
    assert Hold.objects.count() == 1
    assert StockLevel.objects.get(product=product).held == 3


def test_key_reused_for_other_request_conflicts(scope, product, warehouse):
    _receive(scope, product, warehouse, 10)
    stock_hold_place(tenant=scope, lines=[{"sku": "ABC-1", "quantity": 3}],
                     source_type="amazon_po", source_ref="PO1", idempotency_key="k")
    with pytest.raises(ConflictError, match=KEY_REUSED.format(key="k")):
        stock_hold_place(tenant=scope, lines=[{"sku": "ABC-1", "quantity": 4}],
                         source_type="amazon_po", source_ref="PO1", idempotency_key="k")


def test_multi_line_is_all_or_nothing(scope, product, warehouse):
    """When one line cannot be promised, no line is."""
    other = ProductFactory(tenant=scope, sku="XYZ-9")
    _receive(scope, product, warehouse, 10)
    _receive(scope, other, warehouse, 1)
    with pytest.raises(InsufficientStockError, match="Not enough available stock for XYZ-9."):
        stock_hold_place(
            tenant=scope,
            lines=[{"sku": "ABC-1", "quantity": 5}, {"sku": "XYZ-9", "quantity": 2}],
            source_type="amazon_po", source_ref="PO2", idempotency_key="po:PO2",
        )
    assert not Hold.objects.exists()
    assert not HoldLine.objects.exists()
    assert StockLevel.objects.get(product=product).held == 0


def test_safety_stock_is_not_promised(scope, warehouse):
    product = ProductFactory(tenant=scope, sku="S-1", safety_stock=3)
    _receive(scope, product, warehouse, 5)
    with pytest.raises(InsufficientStockError):
        stock_reserve(tenant=scope, lines=[{"sku": "S-1", "quantity": 3}],
                      source_ref="#1001", idempotency_key="shop:1001")
    hold = stock_reserve(tenant=scope, lines=[{"sku": "S-1", "quantity": 2}],
                         source_ref="#1001", idempotency_key="shop:1001")
    assert hold.kind == "reservation"
    assert StockLevel.objects.get(product=product).reserved == 2
