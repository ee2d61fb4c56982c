import datetime as dt

from inventory.models import AtpChange, PurchasePlanLine
from inventory.services import (
    atp_change_ack,
    atp_change_claim,
    demand_record,
    forecast_import,
    purchase_plan_refresh,
    stock_hold_place,
    stock_receive,
)


def test_outbox_coalesces_and_keeps_changes_made_during_push(scope, product, warehouse):
    """Many changes make one row; a change after the claim survives the ack."""
    stock_receive(tenant=scope, product=product, warehouse=warehouse, quantity=10)
    stock_receive(tenant=scope, product=product, warehouse=warehouse, quantity=5)
    assert AtpChange.objects.count() == 1
    claims = atp_change_claim(tenant=scope)
    assert [c.product_id for c in claims] == [product.pk]
    assert atp_change_claim(tenant=scope) == []  # leased
    stock_hold_place(tenant=scope, lines=[{"product": product, "quantity": 1}],
                     source_type="amazon_po", source_ref="PO1", idempotency_key="k")
    assert atp_change_ack(tenant=scope, claims=claims) == 0
    claims = atp_change_claim(tenant=scope)
    assert atp_change_ack(tenant=scope, claims=claims) == 1
    assert not AtpChange.objects.exists()


def test_demand_record_is_replay_safe(scope, product):
    for _ in range(2):
        demand_record(tenant=scope, product="ABC-1", channel="web_store", quantity=3,
                      occurred_on=dt.date(2026, 1, 5), idempotency_key="order:1:1")
    assert product.demand.count() == 1


def test_plan_uses_forecast_and_explains(scope, product, warehouse):
    product.asin = "B000000001"
    product.case_pack = 12
    product.save()
    today = dt.date(2026, 3, 2)
    forecast_import(tenant=scope, rows=[
        {"asin": "B000000001", "week_start": today + dt.timedelta(weeks=w), "mean": "20",
         "p70": "24", "p80": "27", "p90": "30"} for w in range(8)
    ])
    stock_receive(tenant=scope, product=product, warehouse=warehouse, quantity=30)
    purchase_plan_refresh(tenant=scope, today=today)
    line = PurchasePlanLine.objects.get(product=product)
    assert line.weekly_demand == 20
    assert line.suggested_quantity > 0 and line.suggested_quantity % 12 == 0
    assert line.suggested_order_on == today
    assert "Amazon forecast" in line.reasoning


def test_forecast_rejects_bad_rows_atomically(scope):
    result = forecast_import(tenant=scope, rows=[
        {"asin": "B000000001", "week_start": "2026-03-02", "mean": "1", "p70": "3",
         "p80": "2", "p90": "4"},
        {"asin": "B000000002", "week_start": "soon", "mean": "1", "p70": "1", "p80": "1",
         "p90": "1"},
    ])
    assert not result.applied
    assert [sorted(row.errors) for row in result.rows] == [["p90"], ["week_start"]]


def test_plan_rounds_to_the_suppliers_case_pack_when_the_product_has_none(
    scope, product, warehouse
):
    from inventory.services import supplier_create

    product.asin = "B000000002"
    product.case_pack = 1
    product.moq_units = None
    product.supplier = supplier_create(
        tenant=scope, code="SZ", name="Shenzhen", lead_time_days=28, case_pack=24
    )
    product.save()
    today = dt.date(2026, 3, 2)
    forecast_import(tenant=scope, rows=[
        {"asin": "B000000002", "week_start": today + dt.timedelta(weeks=w), "mean": "20",
         "p70": "24", "p80": "27", "p90": "30"} for w in range(8)
    ])
    stock_receive(tenant=scope, product=product, warehouse=warehouse, quantity=10)
    purchase_plan_refresh(tenant=scope, today=today)
    line = PurchasePlanLine.objects.get(product=product)
    assert line.suggested_quantity > 0 and line.suggested_quantity % 24 == 0
    assert "case pack 24" in line.reasoning
