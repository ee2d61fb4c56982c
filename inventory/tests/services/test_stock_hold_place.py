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


def test_unknown_or_foreign_product_is_refused_as_unknown(scope, product, warehouse, other_tenant):
    """An id of no product of the tenant gets the resolver's error, not a
    stock refusal, and nothing is written."""
    from acorn.exceptions import ApplicationError
    from acorn.tenancy import tenant_scope

    _receive(scope, product, warehouse, 10)
    with tenant_scope(other_tenant):
        foreign = ProductFactory(tenant=other_tenant, sku="ABC-1")
    for ref in ({"product_id": foreign.pk}, {"product": foreign}, {"sku": "NOPE"}):
        with pytest.raises(ApplicationError, match="Unknown product"):
            stock_hold_place(tenant=scope, lines=[{**ref, "quantity": 1}],
                             source_type="amazon_po", source_ref="PO1", idempotency_key="k")
    assert not Hold.objects.exists()
    assert StockLevel.objects.get(product=product).held == 0


def test_safety_stock_can_be_ignored(scope, warehouse):
    product = ProductFactory(tenant=scope, sku="S-1", safety_stock=3)
    _receive(scope, product, warehouse, 5)
    stock_hold_place(tenant=scope, lines=[{"sku": "S-1", "quantity": 5}], source_type="manual",
                     source_ref="m", idempotency_key="m", kind="manual",
                     respect_safety_stock=False)
    assert StockLevel.objects.get(product=product).held == 5


def test_refusal_lists_every_short_product(scope, product, warehouse):
    other = ProductFactory(tenant=scope, sku="XYZ-9")
    _receive(scope, product, warehouse, 1)
    _receive(scope, other, warehouse, 1)
    with pytest.raises(InsufficientStockError) as refused:
        stock_hold_place(
            tenant=scope,
            lines=[{"sku": "XYZ-9", "quantity": 1}, {"sku": "XYZ-9", "quantity": 1},
                   {"sku": "ABC-1", "quantity": 2}],
            source_type="amazon_po", source_ref="PO3", idempotency_key="po:PO3",
        )
    assert refused.value.extra["lines"] == [
        {"sku": "ABC-1", "requested": 2}, {"sku": "XYZ-9", "requested": 2},
    ]
    assert not HoldLine.objects.exists()
    assert set(StockLevel.objects.values_list("held", flat=True)) == {0}


def test_placement_is_one_statement(scope, product, warehouse, django_assert_max_num_queries):
    """The hot path (ids given): SAVEPOINT, the call, RELEASE in a caller's
    transaction (BEGIN, the call, COMMIT on its own); a SKU costs one lookup,
    a second product the ordered lock, a refusal the ROLLBACK TO."""
    other = ProductFactory(tenant=scope, sku="XYZ-9")
    _receive(scope, product, warehouse, 10)
    _receive(scope, other, warehouse, 10)

    def place(key, lines):
        return stock_hold_place(tenant=scope, lines=lines, source_type="amazon_po",
                                source_ref=key, idempotency_key=key)

    place("warm", [{"product_id": product.pk, "quantity": 1}])  # plans the statement
    with django_assert_max_num_queries(3):
        place("ids", [{"product_id": product.pk, "quantity": 1, "line_ref": "1"}])
    with django_assert_max_num_queries(4):
        place("sku", [{"sku": "ABC-1", "quantity": 1}])
    with django_assert_max_num_queries(4):
        place("two", [{"product_id": other.pk, "quantity": 1},
                      {"product_id": product.pk, "quantity": 1}])
    with django_assert_max_num_queries(4), pytest.raises(InsufficientStockError):
        place("short", [{"product_id": product.pk, "quantity": 100}])


def _rows(model, exclude=("id", "created_at", "updated_at", "hold", "changed_at")):
    names = [f.attname for f in model._meta.concrete_fields if f.name not in exclude]
    return [
        {name: getattr(row, name) for name in names}
        for row in model.objects.order_by("product_id" if model is not Hold else "id")
    ]


def test_statement_writes_every_column_and_returns_the_stored_hold(scope, warehouse):
    """The placement statement writes the hold, its lines (request order),
    the levels and the outbox, every column; the returned hold equals the
    stored one."""
    from django.utils import timezone

    from inventory.models import AtpChange
    from inventory.services.hold_placement import hold_placement_write
    from inventory.services.hold_requests import hold_placement_lines_parse

    products = [ProductFactory(tenant=scope, safety_stock=1) for _ in range(2)]
    for product in products:
        _receive(scope, product, warehouse, 10)
    lines = [{"product": products[1].pk, "quantity": 2, "line_ref": "1"},
             {"product": products[0].pk, "quantity": 3, "line_ref": "2"},
             {"product": products[1].pk, "quantity": 1, "line_ref": "3"}]
    expires_at = timezone.now()
    fields = dict(tenant=scope, kind="purchase_order", channel="amazon_vendor",
                  source_type="amazon_po", source_ref="PO9", idempotency_key="k",
                  note="n", expires_at=expires_at, actor_label="system")
    now = timezone.now()
    # When the statement places the hold
    placement = hold_placement_write(
        tenant=scope, hold=Hold(**fields), requests=hold_placement_lines_parse(lines),
        product_ids=[line["product"] for line in lines], respect_safety_stock=True, now=now,
    )
    # Then the returned hold is the stored row, every column
    assert placement.refused == []
    hold, stored = placement.hold, Hold.objects.get()
    assert [getattr(hold, f.attname) for f in Hold._meta.concrete_fields] == [
        getattr(stored, f.attname) for f in Hold._meta.concrete_fields
    ]
    assert not hold._state.adding
    assert _rows(Hold) == [{"tenant_id": scope.pk, "kind": "purchase_order", "status": "active",
                            "channel": "amazon_vendor", "source_type": "amazon_po",
                            "source_ref": "PO9", "idempotency_key": "k", "note": "n",
                            "expires_at": expires_at, "actor_label": "system"}]
    assert stored.created_at == stored.updated_at == now
    # And the lines in request order, the levels and the outbox
    assert all(line.created_at == line.updated_at == now for line in HoldLine.objects.all())
    assert [
        (line.hold_id, line.product_id, line.line_ref, line.quantity, line.open_quantity,
         line.consumed_quantity, line.released_quantity, line.tenant_id)
        for line in HoldLine.objects.order_by("id")
    ] == [(stored.pk, products[1].pk, "1", 2, 2, 0, 0, scope.pk),
          (stored.pk, products[0].pk, "2", 3, 3, 0, 0, scope.pk),
          (stored.pk, products[1].pk, "3", 1, 1, 0, 0, scope.pk)]
    levels = {row["product_id"]: row for row in _rows(StockLevel)}
    assert (levels[products[0].pk]["held"], levels[products[1].pk]["held"]) == (3, 3)
    assert all(row["reserved"] == 0 and row["on_hand"] == 10 for row in levels.values())
    assert StockLevel.objects.filter(updated_at=now).count() == 2
    outbox = _rows(AtpChange)
    assert {row["product_id"] for row in outbox} == {p.pk for p in products}
    assert AtpChange.objects.filter(changed_at=now, updated_at=now).count() == 2
