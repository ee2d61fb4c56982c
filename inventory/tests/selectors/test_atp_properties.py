"""Property tests of available-to-promise (hypothesis, real database)."""

from decimal import Decimal

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from acorn.tenancy import tenant_scope
from inventory.selectors import atp_for_products
from inventory.selectors.stock import _Rule, atp_apply_rule
from inventory.services import (
    InsufficientStockError,
    channel_rule_set,
    stock_hold_place,
    stock_receive,
    stock_reserve,
)
from inventory.tests.factories import ProductFactory, WarehouseFactory

rules = st.builds(
    _Rule,
    allocation_percent=st.decimals(min_value=0, max_value=100, places=2),
    keep_back=st.integers(0, 50),
    max_listed=st.none() | st.integers(0, 200),
    zero_at=st.integers(0, 20),
    include_inbound=st.booleans(),
    inbound_horizon_days=st.integers(0, 60),
)


@given(free=st.integers(-100, 1000), inbound=st.integers(0, 500), rule=rules)
def test_rule_never_negative_and_respects_buffers(free, inbound, rule):
    available = atp_apply_rule(free=free, inbound=inbound, rule=rule)
    base = free + (inbound if rule.include_inbound else 0)
    assert available >= 0
    assert available <= max(base - rule.keep_back, 0)
    assert available <= base * rule.allocation_percent / Decimal(100) or available == 0
    if rule.max_listed is not None:
        assert available <= rule.max_listed
    if base <= rule.zero_at:
        assert available == 0


@pytest.mark.django_db
@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    on_hand=st.integers(0, 60),
    safety=st.integers(0, 20),
    requests=st.lists(st.tuples(st.booleans(), st.integers(1, 15)), max_size=8),
    rule=rules,
)
def test_holds_and_atp_add_up_to_on_hand(tenant, on_hand, safety, requests, rule):
    """held + reserved + free + safety = on hand; ATP never negative; the
    channel rule is applied on top; holds never exceed what was free."""
    with tenant_scope(tenant), transaction.atomic():
        warehouse = WarehouseFactory(tenant=tenant)
        product = ProductFactory(tenant=tenant, safety_stock=safety)
        if on_hand:
            stock_receive(tenant=tenant, product=product, warehouse=warehouse, quantity=on_hand)
        channel_rule_set(tenant=tenant, channel="web_store", product=product,
                         **{k: getattr(rule, k) for k in rule.__slots__})
        promised = 0
        for index, (is_reservation, quantity) in enumerate(requests):
            place = stock_reserve if is_reservation else stock_hold_place
            kwargs = {} if is_reservation else {"source_type": "amazon_po"}
            try:
                place(tenant=tenant, lines=[{"product": product, "quantity": quantity}],
                      source_ref=str(index), idempotency_key=f"{product.pk}:{index}", **kwargs)
                promised += quantity
            except InsufficientStockError:
                assert on_hand - promised - safety < quantity
        atp = atp_for_products(tenant=tenant, channel="web_store", product_ids=[product.pk])
        row = atp[product.pk]
        assert row.held + row.reserved == promised
        assert row.held + row.reserved + row.free + row.safety_stock == row.on_hand == on_hand
        assert promised <= max(on_hand - safety, 0)
        assert row.available >= 0
        assert row.available <= max(row.free + row.inbound, 0)
        if rule.max_listed is not None:
            assert row.available <= rule.max_listed
        transaction.set_rollback(True)
