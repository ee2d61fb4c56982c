"""submitInvoices at the sandbox keeps Amazon's rules; the client-side
business rules (vendor_api.operations.invoices) agree with it.

Every refusal path over real HTTP: the POST is accepted (202) and the
transaction fails with Amazon's error shape, nothing recorded.
"""

import datetime
from decimal import Decimal

import pytest

from vendor_api import conformance
from vendor_api.operations.invoices import (
    ChargeOrAllowance,
    CreditNoteDetails,
    Invoice,
    InvoiceItem,
    InvoiceType,
    TaxDetail,
    submit_invoices_body,
    submit_invoices_problems,
)
from vendor_api.operations.transactions import TransactionStatus
from vendor_api.types import ItemQuantity, Money, Party

NOW = datetime.datetime.now(tz=datetime.UTC)


def _order(sandbox):
    (order,) = sandbox.state.generate(vendor_code="DEMO1", count=1, days=1)
    return order


def _usd(amount) -> Money:
    return Money(amount=Decimal(amount), currency_code="USD")


def _items(order, *, cost_delta=Decimal(0), quantity=None, po_number=None, details=None):
    return tuple(
        InvoiceItem(
            item_sequence_number=int(line.sequence),
            invoiced_quantity=ItemQuantity(amount=line.ordered if quantity is None else quantity),
            net_cost=_usd(line.net_cost + cost_delta),
            purchase_order_number=order.number if po_number is None else po_number,
            amazon_product_identifier=line.asin, credit_note_details=details,
        )
        for line in order.lines
    )


def _invoice(order, number="INV-1", *, invoice_type=InvoiceType.INVOICE, items=None,
             tax=Decimal(0), charge=Decimal(0), allowance=Decimal(0), total_delta=Decimal(0)):
    items = items if items is not None else _items(order)
    lines = sum((Decimal(i.net_cost.amount) * i.invoiced_quantity.amount for i in items),
                Decimal(0))
    return Invoice(
        invoice_type=invoice_type, invoice_id=number, date=NOW,
        remit_to_party=Party(party_id="DEMO1"),
        invoice_total=_usd(lines + tax + charge - allowance + total_delta),
        items=items,
        tax_details=(TaxDetail(tax_type="ST", tax_amount=_usd(tax)),) if tax else (),
        charges=(ChargeOrAllowance(kind="Freight", amount=_usd(charge)),) if charge else (),
        allowances=(ChargeOrAllowance(kind="Discount", amount=_usd(allowance)),)
        if allowance else (),
    )


def _submit(client, *invoices):
    body = submit_invoices_body(invoices)
    assert conformance.validate_request(operation_id="submitInvoices", body=body) == []
    receipt = client.submit_invoices(invoices=list(invoices))
    return client.get_transaction(transaction_id=receipt.transaction_id)


def _codes(transaction) -> list[str]:
    return [error.code for error in transaction.errors or ()]


def test_a_right_invoice_with_tax_charges_and_allowances_is_accepted(client, sandbox):
    order = _order(sandbox)
    invoice = _invoice(order, tax=Decimal("7.25"), charge=Decimal("12.00"),
                       allowance=Decimal("3.10"))
    assert submit_invoices_problems(submit_invoices_body([invoice])) == []
    transaction = _submit(client, invoice)
    assert transaction.status == TransactionStatus.SUCCESS
    assert list(sandbox.state.invoices) == ["INV-1"]


@pytest.mark.parametrize("delta", [Decimal("0.01"), Decimal("-0.01"), Decimal("12.00")])
def test_totals_that_do_not_add_up_are_refused(client, sandbox, delta):
    order = _order(sandbox)
    invoice = _invoice(order, tax=Decimal("7.25"), charge=Decimal("12.00"),
                       allowance=Decimal("3.10"), total_delta=delta)
    assert any("invoiceTotal" in p for p in submit_invoices_problems(
        submit_invoices_body([invoice])))
    transaction = _submit(client, invoice)
    assert transaction.status == TransactionStatus.FAILURE
    assert _codes(transaction) == ["INVOICE_TOTAL_MISMATCH"]
    assert sandbox.state.invoices == {}


def test_an_unknown_po_is_refused(client, sandbox):
    order = _order(sandbox)
    transaction = _submit(client, _invoice(order, items=_items(order, po_number="ZZZZ9999")))
    assert transaction.status == TransactionStatus.FAILURE
    assert set(_codes(transaction)) == {"INVALID_ORDER_ID"}
    assert transaction.errors[0].message == "Invalid order ID ZZZZ9999."
    assert sandbox.state.invoices == {}


def test_a_net_cost_other_than_the_po_cost_is_refused(client, sandbox):
    order = _order(sandbox)
    transaction = _submit(client, _invoice(order, items=_items(order,
                                                               cost_delta=Decimal("0.01"))))
    assert transaction.status == TransactionStatus.FAILURE
    assert set(_codes(transaction)) == {"NET_COST_MISMATCH"}
    assert sandbox.state.invoices == {}


def test_a_duplicate_invoice_number_is_refused_and_the_first_kept(client, sandbox):
    order = _order(sandbox)
    first = _invoice(order)
    assert _submit(client, first).status == TransactionStatus.SUCCESS
    again = _submit(client, _invoice(order, tax=Decimal("1.00")))
    assert again.status == TransactionStatus.FAILURE
    assert _codes(again) == ["DUPLICATE_INVOICE"]
    assert sandbox.state.invoices["INV-1"] == first.to_json()


def test_the_same_number_twice_in_one_request_is_refused(client, sandbox):
    order = _order(sandbox)
    body = submit_invoices_body([_invoice(order), _invoice(order)])
    assert any("twice" in p for p in submit_invoices_problems(body))
    transaction = _submit(client, _invoice(order), _invoice(order))
    assert "DUPLICATE_INVOICE" in _codes(transaction)
    assert sandbox.state.invoices == {}


def test_a_number_still_processing_counts_as_received(client, sandbox):
    order = _order(sandbox)
    sandbox.control("POST", "/_sandbox/scenario", {"transactions_stuck": True})
    client.submit_invoices(invoices=[_invoice(order)])
    sandbox.control("POST", "/_sandbox/scenario", {"transactions_stuck": False})
    transaction = _submit(client, _invoice(order))
    assert _codes(transaction) == ["DUPLICATE_INVOICE"]


@pytest.mark.parametrize("quantity, cost_delta, code", [
    (0, Decimal(0), "INVALID_QUANTITY"),
    (None, "zero", "INVALID_NET_COST"),
])
def test_zero_quantity_or_cost_is_refused(client, sandbox, quantity, cost_delta, code):
    order = _order(sandbox)
    if cost_delta == "zero":
        items = tuple(
            InvoiceItem(item_sequence_number=int(line.sequence),
                        invoiced_quantity=ItemQuantity(amount=line.ordered),
                        net_cost=_usd("0"), purchase_order_number=order.number)
            for line in order.lines
        )
    else:
        items = _items(order, quantity=quantity)
    invoice = _invoice(order, items=items)
    assert submit_invoices_problems(submit_invoices_body([invoice]))
    transaction = _submit(client, invoice)
    assert transaction.status == TransactionStatus.FAILURE
    assert code in _codes(transaction)


def test_an_invoice_item_without_its_po_is_refused(client, sandbox):
    order = _order(sandbox)
    invoice = _invoice(order, items=_items(order, po_number=""))
    assert any("purchaseOrderNumber" in p for p in submit_invoices_problems(
        submit_invoices_body([invoice])))
    transaction = _submit(client, invoice)
    assert set(_codes(transaction)) == {"MISSING_PURCHASE_ORDER_NUMBER"}


# --- credit notes -----------------------------------------------------------------------

RETURN_DATE = NOW - datetime.timedelta(days=3)


@pytest.mark.parametrize("details", [
    CreditNoteDetails(reference_invoice_number="INV-1"),  # PPV / PQV
    CreditNoteDetails(returns_reference_number="RN-77", goods_return_date=RETURN_DATE,
                      rma_id="RMA-1", consignors_reference_number="VRET-9"),
    CreditNoteDetails(coop_reference_number="COOP-2026-1"),
    CreditNoteDetails(debit_note_number="DN-55"),  # co-op by Amazon's debit note
])
def test_credit_notes_with_the_references_of_their_kind_are_accepted(client, sandbox, details):
    order = _order(sandbox)
    assert _submit(client, _invoice(order)).status == TransactionStatus.SUCCESS
    credit = _invoice(order, "CN-1", invoice_type=InvoiceType.CREDIT_NOTE,
                      items=_items(order, quantity=1, details=details))
    assert submit_invoices_problems(submit_invoices_body([credit])) == []
    transaction = _submit(client, credit)
    assert transaction.status == TransactionStatus.SUCCESS, transaction.errors
    assert "CN-1" in sandbox.state.invoices


@pytest.mark.parametrize("details, code", [
    (None, "MISSING_CREDIT_NOTE_REFERENCE"),
    (CreditNoteDetails(returns_reference_number="RN-77"), "MISSING_CREDIT_NOTE_REFERENCE"),
    (CreditNoteDetails(goods_return_date=RETURN_DATE), "MISSING_CREDIT_NOTE_REFERENCE"),
    (CreditNoteDetails(reference_invoice_number="NEVER-SENT"), "INVALID_REFERENCE_INVOICE"),
    (CreditNoteDetails(rma_id="RMA-only"), "MISSING_CREDIT_NOTE_REFERENCE"),
])
def test_credit_notes_without_their_references_are_refused(client, sandbox, details, code):
    order = _order(sandbox)
    credit = _invoice(order, "CN-2", invoice_type=InvoiceType.CREDIT_NOTE,
                      items=_items(order, quantity=1, details=details))
    if code == "MISSING_CREDIT_NOTE_REFERENCE":
        assert submit_invoices_problems(submit_invoices_body([credit]))
    transaction = _submit(client, credit)
    assert transaction.status == TransactionStatus.FAILURE
    assert set(_codes(transaction)) == {code}
    assert "CN-2" not in sandbox.state.invoices


def test_credit_note_details_serialise_only_what_is_set():
    details = CreditNoteDetails(returns_reference_number="RN-1", goods_return_date=RETURN_DATE)
    assert details.to_json() == {"returnsReferenceNumber": "RN-1",
                                 "goodsReturnDate": RETURN_DATE.astimezone(datetime.UTC)
                                 .isoformat(timespec="seconds").replace("+00:00", "Z")}
    item = InvoiceItem(item_sequence_number=1, invoiced_quantity=ItemQuantity(amount=1),
                       net_cost=_usd("1"), credit_note_details=CreditNoteDetails())
    assert "creditNoteDetails" not in item.to_json()
