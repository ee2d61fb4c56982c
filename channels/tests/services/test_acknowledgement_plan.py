"""acknowledgement_plan / _edit / _send rules, holds following the plan."""

import datetime
from decimal import Decimal

import pytest
from django.utils import timezone

from acorn.exceptions import ApplicationError
from channels.models import AckAutoSend, AckStatus, RejectionReason, Submission
from channels.services.acknowledgements import (
    HOLD_SOURCE_TYPE,
    acknowledgement_edit,
    acknowledgement_plan,
    acknowledgement_send,
)
from channels.tests.factories import (
    AmazonVendorAccountFactory,
    PurchaseOrderFactory,
    PurchaseOrderLineFactory,
)
from inventory.models import Hold, StockLevel
from inventory.services.catalog import inbound_supply_upsert
from inventory.services.stock import stock_receive
from inventory.tests.factories import ProductFactory, WarehouseFactory


@pytest.fixture
def setup(scope):
    account = AmazonVendorAccountFactory(tenant=scope, ack_auto_send=AckAutoSend.NEVER,
                                         backorder_horizon_days=14)
    warehouse = WarehouseFactory(tenant=scope)
    return account, warehouse


def _product(tenant, warehouse, on_hand, **fields):
    product = ProductFactory(tenant=tenant, **fields)
    if on_hand:
        stock_receive(tenant=tenant, product=product, warehouse=warehouse, quantity=on_hand)
    return product


def _line(po, seq, product, ordered, **fields):
    return PurchaseOrderLineFactory(tenant=po.tenant, purchase_order=po,
                                    item_sequence_number=seq, product=product,
                                    ordered_quantity=ordered, **fields)


def _held(tenant, product) -> int:
    return StockLevel.objects.get(tenant=tenant, product=product).held


def test_atp_is_consumed_in_line_order_and_case_packs_respected(scope, setup):
    """Two lines of one product share its stock; cases accept whole cases only."""
    account, warehouse = setup
    product = _product(scope, warehouse, 25)
    po = PurchaseOrderFactory(tenant=scope, account=account)
    first = _line(po, "1", product, 10)
    # 6 units per case: 15 units left -> 2 cases
    second = _line(po, "2", product, 4, order_unit="Cases", units_per_order_unit=6)
    acknowledgement_plan(tenant=scope, purchase_order=po)
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.planned_accept, first.planned_reject) == (10, 0)
    assert (second.planned_accept, second.planned_reject) == (2, 2)
    assert second.rejection_reason == RejectionReason.TEMPORARILY_UNAVAILABLE
    # Held: 10 + 2 cases x 6 = 22 units, under one hold
    assert _held(scope, product) == 22
    po.refresh_from_db()
    assert po.ack_status == AckStatus.REVIEW


def test_backorder_from_inbound_within_horizon_with_dates(scope, setup):
    """The shortfall is backordered when inbound inside the horizon covers it."""
    account, warehouse = setup
    product = _product(scope, warehouse, 4)
    late = _product(scope, warehouse, 0)
    today = timezone.now().date()
    inbound_supply_upsert(tenant=scope, product=product, warehouse=warehouse, quantity=20,
                          expected_on=today + datetime.timedelta(days=5), reference="SUP-1")
    inbound_supply_upsert(tenant=scope, product=late, warehouse=warehouse, quantity=20,
                          expected_on=today + datetime.timedelta(days=30), reference="SUP-2")
    po = PurchaseOrderFactory(tenant=scope, account=account)
    line = _line(po, "1", product, 10, is_backorder_allowed=True)
    no_backorder = _line(po, "2", product, 3)
    beyond = _line(po, "3", late, 5, is_backorder_allowed=True)
    acknowledgement_plan(tenant=scope, purchase_order=po)
    for obj in (line, no_backorder, beyond):
        obj.refresh_from_db()
    assert (line.planned_accept, line.planned_backorder, line.planned_reject) == (4, 6, 0)
    assert line.scheduled_ship_date == today + datetime.timedelta(days=5)
    assert line.scheduled_delivery_date > line.scheduled_ship_date
    assert (no_backorder.planned_accept, no_backorder.planned_reject) == (0, 3)
    assert (beyond.planned_backorder, beyond.planned_reject) == (0, 5)
    # Only accepted units are held
    assert _held(scope, product) == 4


def test_inactive_product_is_rejected_as_obsolete(scope, setup):
    account, warehouse = setup
    product = _product(scope, warehouse, 50, is_active=False)
    po = PurchaseOrderFactory(tenant=scope, account=account)
    line = _line(po, "1", product, 5)
    acknowledgement_plan(tenant=scope, purchase_order=po)
    line.refresh_from_db()
    assert (line.planned_reject, line.rejection_reason) == (5, RejectionReason.OBSOLETE_PRODUCT)
    assert _held(scope, product) == 0


def test_unmapped_line_blocks_the_plan(scope, setup):
    account, warehouse = setup
    po = PurchaseOrderFactory(tenant=scope, account=account)
    _line(po, "1", None, 5)
    acknowledgement_plan(tenant=scope, purchase_order=po)
    po.refresh_from_db()
    assert po.ack_status == AckStatus.BLOCKED


def test_replanning_never_double_holds(scope, setup):
    """Planning the same PO again keeps exactly the accepted units held."""
    account, warehouse = setup
    product = _product(scope, warehouse, 30)
    po = PurchaseOrderFactory(tenant=scope, account=account)
    _line(po, "1", product, 12)
    acknowledgement_plan(tenant=scope, purchase_order=po)
    acknowledgement_plan(tenant=scope, purchase_order=po)
    assert _held(scope, product) == 12
    assert Hold.objects.filter(source_type=HOLD_SOURCE_TYPE, source_ref=str(po.pk)).count() == 1


def test_edit_releases_hold_on_reject_and_enforces_rules(scope, setup):
    """Edits keep the sum, stay within stock and price, and move the holds."""
    account, warehouse = setup
    product = _product(scope, warehouse, 15)
    po = PurchaseOrderFactory(tenant=scope, account=account)
    line = _line(po, "1", product, 20, net_cost=Decimal("9.99"))
    acknowledgement_plan(tenant=scope, purchase_order=po)
    assert _held(scope, product) == 15
    base = {"line_id": line.pk}
    with pytest.raises(ApplicationError, match="must equal 20"):
        acknowledgement_edit(tenant=scope, purchase_order=po,
                             lines=[{**base, "accept": 5, "reject": 5}])
    with pytest.raises(ApplicationError, match="only 15 can be accepted"):
        acknowledgement_edit(tenant=scope, purchase_order=po,
                             lines=[{**base, "accept": 16, "reject": 4}])
    with pytest.raises(ApplicationError, match="may not exceed the PO's 9.99"):
        acknowledgement_edit(tenant=scope, purchase_order=po,
                             lines=[{**base, "accept": 15, "reject": 5, "net_cost": "10.00"}])
    with pytest.raises(ApplicationError, match="does not allow backorders"):
        acknowledgement_edit(tenant=scope, purchase_order=po,
                             lines=[{**base, "accept": 10, "backorder": 10}])
    # Rejecting 8 more releases their hold
    acknowledgement_edit(tenant=scope, purchase_order=po,
                         lines=[{**base, "accept": 7, "reject": 13}])
    assert _held(scope, product) == 7
    # Accepting them again holds them again (available + already held)
    acknowledgement_edit(tenant=scope, purchase_order=po,
                         lines=[{**base, "accept": 15, "reject": 5}])
    assert _held(scope, product) == 15


def test_cancellation_by_amazon_releases_the_hold(scope, setup):
    account, warehouse = setup
    product = _product(scope, warehouse, 15)
    po = PurchaseOrderFactory(tenant=scope, account=account)
    line = _line(po, "1", product, 12)
    acknowledgement_plan(tenant=scope, purchase_order=po)
    assert _held(scope, product) == 12
    # Amazon cancels the line (quantity 0), then the PO is re-planned
    line.ordered_quantity, line.cancelled_quantity = 0, 12
    line.save()
    acknowledgement_plan(tenant=scope, purchase_order=po)
    po.refresh_from_db()
    assert po.ack_status == AckStatus.NOT_NEEDED
    assert _held(scope, product) == 0


def test_updates_follow_the_48_hour_rule(scope, setup):
    """After sending, an edit is an update: allowed within 48 h, refused after."""
    account, warehouse = setup
    product = _product(scope, warehouse, 20)
    po = PurchaseOrderFactory(tenant=scope, account=account, selling_party_id="DEMO1")
    line = _line(po, "1", product, 12)
    acknowledgement_plan(tenant=scope, purchase_order=po)
    first = acknowledgement_send(tenant=scope, purchase_order=po)
    # Amazon took it 47 hours ago
    sent_at = timezone.now() - datetime.timedelta(hours=47)
    Submission.objects.filter(pk=first.pk).update(status="success", sent_at=sent_at)
    po.refresh_from_db()
    po.ack_status = AckStatus.ACCEPTED
    po.save()
    acknowledgement_edit(tenant=scope, purchase_order=po,
                         lines=[{"line_id": line.pk, "accept": 10, "reject": 2}])
    update = acknowledgement_send(tenant=scope, purchase_order=po)
    assert update.document_version == 2
    # 49 hours after the first: refused
    Submission.objects.filter(pk=first.pk).update(
        sent_at=timezone.now() - datetime.timedelta(hours=49))
    po.refresh_from_db()
    po.ack_status = AckStatus.ACCEPTED
    po.save()
    with pytest.raises(ApplicationError, match="only within 48 hours"):
        acknowledgement_edit(tenant=scope, purchase_order=po,
                             lines=[{"line_id": line.pk, "accept": 12}])
