"""Orders over the sandbox: windows, paging, acknowledgements, receipts."""

import datetime

import pytest

from vendor_api.errors import InvalidInput
from vendor_api.operations.orders import (
    AcknowledgementCode,
    AcknowledgementItem,
    ConfirmationStatus,
    ItemAcknowledgement,
    OrderAcknowledgement,
    PurchaseOrderState,
    ReceiveStatus,
    SortOrder,
)
from vendor_api.operations.transactions import TransactionStatus
from vendor_api.types import ItemQuantity, Money, Party

NOW = datetime.datetime.now(tz=datetime.UTC)


def _ack(order, *, net_cost=None, quantity=None):
    return OrderAcknowledgement(
        purchase_order_number=order.purchase_order_number, selling_party=Party(party_id="DEMO1"),
        acknowledgement_date=NOW,
        items=tuple(
            AcknowledgementItem(
                item_sequence_number=item.item_sequence_number,
                ordered_quantity=item.ordered_quantity,
                net_cost=net_cost or item.net_cost,
                acknowledgements=(ItemAcknowledgement(
                    code=AcknowledgementCode.ACCEPTED,
                    quantity=quantity or item.ordered_quantity),),
            )
            for item in order.items
        ),
    )


def test_all_pages_of_all_windows_are_read_once(client, sandbox, call_log):
    # Given 60 POs over 30 days (more than four 7-day windows)
    # When the client reads 31 days with pages of 7
    orders = list(client.iter_purchase_orders(
        created_after=NOW - datetime.timedelta(days=31), page_size=7, now=NOW,
    ))
    # Then every PO comes once, in creation order, and no request spanned > 7 days
    assert len(orders) == len(sandbox.state.orders) == 60
    assert len({o.purchase_order_number for o in orders}) == 60
    dates = [o.purchase_order_date for o in orders]
    assert dates == sorted(dates)
    assert all(o.purchase_order_date.tzinfo == datetime.UTC for o in orders)
    assert len(call_log) > 5


def test_descending_order_and_filters(client, sandbox):
    orders = list(client.iter_purchase_orders(
        created_after=NOW - datetime.timedelta(days=31), sort_order=SortOrder.DESC, now=NOW,
        purchase_order_state=PurchaseOrderState.NEW, page_size=5,
    ))
    dates = [o.purchase_order_date for o in orders]
    assert dates == sorted(dates, reverse=True)
    assert {o.state for o in orders} == {PurchaseOrderState.NEW}


def test_a_window_longer_than_seven_days_is_refused(client):
    # When one page is asked for 8 days / Then Amazon's 400 arrives as InvalidInput
    with pytest.raises(InvalidInput, match="The date range must not exceed 7 days") as caught:
        client.get_purchase_orders_page(created_after=NOW - datetime.timedelta(days=8),
                                        created_before=NOW)
    assert caught.value.status == 400
    assert caught.value.errors[0].code == "InvalidInput"


def test_acknowledgement_moves_po_to_acknowledged_after_processing(client, sandbox):
    # Given a New PO and transactions that take 0.3 s
    sandbox.control("POST", "/_sandbox/scenario", {"transaction_processing_seconds": 0.3})
    order = next(o for o in client.iter_purchase_orders(
        created_after=NOW - datetime.timedelta(days=31), now=NOW))
    # When it is acknowledged
    receipt = client.submit_acknowledgement(acknowledgements=[_ack(order)])
    # Then the transaction is Processing, then Success, and the PO Acknowledged
    assert client.get_transaction(transaction_id=receipt.transaction_id).status == (
        TransactionStatus.PROCESSING)
    import time
    time.sleep(0.35)
    assert client.get_transaction(transaction_id=receipt.transaction_id).status == (
        TransactionStatus.SUCCESS)
    assert client.get_purchase_order(
        purchase_order_number=order.purchase_order_number).state == PurchaseOrderState.ACKNOWLEDGED


def test_net_cost_that_differs_from_the_po_fails_the_transaction(client):
    order = next(client.iter_purchase_orders(
        created_after=NOW - datetime.timedelta(days=31), now=NOW))
    receipt = client.submit_acknowledgement(acknowledgements=[
        _ack(order, net_cost=Money(amount=order.items[0].net_cost.amount + 1,
                                   currency_code="USD"))])
    transaction = client.get_transaction(transaction_id=receipt.transaction_id)
    assert transaction.status == TransactionStatus.FAILURE
    assert transaction.errors[0].code == "NET_COST_MISMATCH"
    assert "differs from the purchase order cost" in transaction.errors[0].message


def test_stuck_transactions_stay_processing(client, sandbox):
    sandbox.control("POST", "/_sandbox/scenario", {"transactions_stuck": True})
    order = next(client.iter_purchase_orders(
        created_after=NOW - datetime.timedelta(days=31), now=NOW))
    receipt = client.submit_acknowledgement(acknowledgements=[_ack(order)])
    assert client.get_transaction(transaction_id=receipt.transaction_id).status == (
        TransactionStatus.PROCESSING)


def test_receipt_with_shortage_shows_in_purchase_orders_status(client, sandbox):
    # Given an acknowledged PO
    order = next(client.iter_purchase_orders(
        created_after=NOW - datetime.timedelta(days=31), now=NOW))
    client.submit_acknowledgement(acknowledgements=[_ack(order)])
    first = order.items[0]
    # When Amazon receives 2 units fewer on line 1 and nothing else
    sandbox.control("POST", "/_sandbox/receive", {
        "purchase_order_number": order.purchase_order_number,
        "received": {first.item_sequence_number: first.ordered_quantity.amount - 2},
    })
    # Then getPurchaseOrdersStatus shows the shortage and the PO is closed
    page = client.get_purchase_orders_status_page(
        purchase_order_number=order.purchase_order_number)
    status = page.statuses[0]
    line = status.items[0]
    assert str(status.status) == "CLOSED"
    assert line.confirmation_status == ConfirmationStatus.ACCEPTED
    assert line.receive_status == ReceiveStatus.PARTIALLY_RECEIVED
    assert line.received_quantity == ItemQuantity(amount=first.ordered_quantity.amount - 2,
                                                  unit_of_measure="Eaches", unit_size=1)
    # And a second acknowledgement of the closed PO fails
    receipt = client.submit_acknowledgement(acknowledgements=[_ack(order)])
    failure = client.get_transaction(transaction_id=receipt.transaction_id)
    assert failure.errors[0].code == "PO_CLOSED"
