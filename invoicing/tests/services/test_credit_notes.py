"""Credit notes: references validated per reason, bounds against the
original invoice minus earlier credit notes, numbers from the CN series."""

from decimal import Decimal

import pytest

from acorn.exceptions import ApplicationError
from invoicing.models import CreditReason, InvoiceStatus
from invoicing.services import credit_note_create, invoice_issue_checked
from invoicing.services.issue import invoice_issue, invoice_recalculate
from invoicing.tests.factories import InvoiceFactory, InvoiceLineFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def original(scope):
    """An issued invoice: line 1 is 10 x 9.99, line 2 is 4 x 25.00."""
    invoice = InvoiceFactory(tenant=scope)
    InvoiceLineFactory(invoice=invoice, line_number=1, quantity=10,
                       net_unit_cost=Decimal("9.99"))
    InvoiceLineFactory(invoice=invoice, line_number=2, quantity=4,
                       net_unit_cost=Decimal("25.00"))
    invoice_recalculate(invoice=invoice)
    return invoice_issue(tenant=scope, invoice_id=invoice.pk)


def _line(invoice, number):
    return invoice.lines.get(line_number=number)


RETURN_REFS = {"returnsReferenceNumber": "RET-1", "goodsReturnDate": "2026-11-20",
               "rmaId": "RMA-9"}


def test_return_credits_at_original_cost_and_is_numbered_from_cn(scope, original):
    line = _line(original, 1)
    credit = credit_note_create(tenant=scope, original_invoice_id=original.pk,
                                reason=CreditReason.RETURN,
                                lines=[{"invoice_line_id": line.pk, "quantity": 3}],
                                references=RETURN_REFS)
    assert credit.kind == "credit_note" and credit.original_invoice_id == original.pk
    (credited,) = credit.lines.all()
    assert (credited.quantity, credited.net_unit_cost, credited.credited_line_id) == (
        3, Decimal("9.99"), line.pk)
    assert credit.line_total == Decimal("29.97")
    assert credit.buyer == original.buyer and credit.seller == original.seller
    assert credit.credit_references == {**RETURN_REFS}
    issued = invoice_issue_checked(tenant=scope, invoice_id=credit.pk)
    assert issued.number.startswith("CN-") and issued.status == InvoiceStatus.ISSUED


def test_returns_never_exceed_what_is_left(scope, original):
    line = _line(original, 1)
    credit_note_create(tenant=scope, original_invoice_id=original.pk,
                       reason=CreditReason.RETURN,
                       lines=[{"invoice_line_id": line.pk, "quantity": 8}],
                       references=RETURN_REFS)
    with pytest.raises(ApplicationError, match="only 2 left"):
        credit_note_create(tenant=scope, original_invoice_id=original.pk,
                           reason=CreditReason.QUANTITY,
                           lines=[{"invoice_line_id": line.pk, "quantity": 3}])
    ok = credit_note_create(tenant=scope, original_invoice_id=original.pk,
                            reason=CreditReason.QUANTITY,
                            lines=[{"invoice_line_id": line.pk, "quantity": 2}])
    assert ok.credit_references == {"referenceInvoiceNumber": original.number}


def test_price_correction_bounds(scope, original):
    line = _line(original, 2)
    with pytest.raises(ApplicationError, match="exceeds the net cost"):
        credit_note_create(tenant=scope, original_invoice_id=original.pk,
                           reason=CreditReason.PRICE,
                           lines=[{"invoice_line_id": line.pk, "quantity": 1,
                                   "unit_amount": "25.01"}])
    credit_note_create(tenant=scope, original_invoice_id=original.pk, reason=CreditReason.PRICE,
                       lines=[{"invoice_line_id": line.pk, "quantity": 4,
                               "unit_amount": "20.00"}])
    # 80 of the line's 100 is credited: a return of 1 unit (25.00) no longer fits
    with pytest.raises(ApplicationError, match="only 20.00 left"):
        credit_note_create(tenant=scope, original_invoice_id=original.pk,
                           reason=CreditReason.RETURN,
                           lines=[{"invoice_line_id": line.pk, "quantity": 1}],
                           references=RETURN_REFS)


def test_references_are_validated_per_reason(scope, original):
    line = _line(original, 1)
    spec = [{"invoice_line_id": line.pk, "quantity": 1}]
    with pytest.raises(ApplicationError, match="goodsReturnDate"):
        credit_note_create(tenant=scope, original_invoice_id=original.pk, reason="return",
                           lines=spec, references={"returnsReferenceNumber": "R1"})
    with pytest.raises(ApplicationError, match="must be a date"):
        credit_note_create(tenant=scope, original_invoice_id=original.pk, reason="return",
                           lines=spec, references={"returnsReferenceNumber": "R1",
                                                   "goodsReturnDate": "yesterday"})
    with pytest.raises(ApplicationError, match="coopReferenceNumber"):
        credit_note_create(tenant=scope, original_invoice_id=original.pk, reason="coop",
                           amount=Decimal("10"), references={})
    with pytest.raises(ApplicationError, match="does not belong"):
        credit_note_create(tenant=scope, original_invoice_id=original.pk, reason="price",
                           lines=[{**spec[0], "unit_amount": "1"}],
                           references={"rmaId": "X"})
    with pytest.raises(ApplicationError, match="original invoice's number"):
        credit_note_create(tenant=scope, original_invoice_id=original.pk, reason="quantity",
                           lines=spec, references={"referenceInvoiceNumber": "INV-999"})


def test_coop_is_bounded_by_the_invoice_net_total(scope, original):
    assert original.tax_exclusive_total == Decimal("199.90")
    coop = credit_note_create(tenant=scope, original_invoice_id=original.pk, reason="coop",
                              amount=Decimal("150.00"),
                              references={"coopReferenceNumber": "COOP-1"})
    assert coop.line_total == Decimal("150.00")
    with pytest.raises(ApplicationError, match="exceeds"):
        credit_note_create(tenant=scope, original_invoice_id=original.pk, reason="coop",
                           amount=Decimal("50.00"), references={"debitNoteNumber": "DN-1"})


def test_only_issued_invoices_are_credited(scope):
    draft = InvoiceFactory(tenant=scope)
    line = InvoiceLineFactory(invoice=draft, line_number=1)
    with pytest.raises(ApplicationError, match="Only an issued invoice"):
        credit_note_create(tenant=scope, original_invoice_id=draft.pk, reason="quantity",
                           lines=[{"invoice_line_id": line.pk, "quantity": 1}])


def test_a_draft_credit_note_overtaken_by_another_is_blocked_at_issue(scope, original):
    line = _line(original, 1)
    first = credit_note_create(tenant=scope, original_invoice_id=original.pk,
                               reason="quantity",
                               lines=[{"invoice_line_id": line.pk, "quantity": 6}])
    second = credit_note_create(tenant=scope, original_invoice_id=original.pk,
                                reason="quantity",
                                lines=[{"invoice_line_id": line.pk, "quantity": 4}])
    # Both fit together (10); the second, edited past the bound as a draft,
    # is blocked at issue once the first is issued
    second.lines.update(quantity=5)
    invoice_recalculate(invoice=second)
    invoice_issue_checked(tenant=scope, invoice_id=first.pk)
    with pytest.raises(ApplicationError, match="blocking problem"):
        invoice_issue_checked(tenant=scope, invoice_id=second.pk)
    second.refresh_from_db()
    assert ("block", "credit_exceeds_original", 1) in {
        (f["level"], f["code"], f["line"]) for f in second.check_results}
