# ruff: noqa: F811 (the fixtures imported from submission_support are parameters here)
"""Invoices and credit notes to Amazon: the payload from the Document,
validated before it leaves, sent once, tracked, Amazon's errors shown.

Over real parts: PostgreSQL, the sandbox over HTTP (its own rules decide
what Amazon accepts), the channels submission machinery with its eager
send task, and Amazon's official model for conformance.
"""

from __future__ import annotations

import datetime
import json
from decimal import Decimal
from pathlib import Path

import pytest
from django.conf import settings
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from acorn.exceptions import ApplicationError, ConflictError
from channels.models import DocumentType, Submission, SubmissionStatus
from channels.services.submissions import submissions_poll
from invoicing.document import document_from_invoice
from invoicing.models import CreditReason, DocumentKind, Invoice, TaxCategory
from invoicing.selectors import invoice_submission_status
from invoicing.services.submission import (
    CREDIT_NOTE_API_COUNTRIES,
    SubmissionState,
    credit_note_country,
    invoice_payload_build,
    invoice_payload_problems,
    invoice_submit,
    invoices_submit,
)
from invoicing.tests.submission_support import (  # noqa: F401 (fixtures)
    AE,
    CA,
    DE,
    FR,
    GB,
    JP,
    US,
    account,
    grant,
    issued_document,
    live,
    quick_client,
    sandbox,
    sandbox_po,
)
from vendor_api import conformance

pytestmark = pytest.mark.django_db(transaction=True)

OFFICIAL_MODEL = Path(settings.BASE_DIR).parent / "shared" / "spapi-models" / "vendorInvoices.json"
VAT19 = (TaxCategory.STANDARD, Decimal("19.00"))
TODAY = timezone.now().date()


def _payload(invoice) -> dict:
    invoice = Invoice.objects.get(pk=invoice.pk)
    return invoice_payload_build(document=document_from_invoice(invoice),
                                 remit_to_party_id="DEMO1")


def _all_kinds(live, account, sandbox):
    """One of every document the product sends: US invoice, EU invoice with
    VAT, freight and a discount, and each credit-note kind."""
    po = sandbox_po(sandbox)
    us = issued_document(live, account, po, due_days=30)
    eu = issued_document(live, account, po, marketplace=DE, currency="EUR", tax=VAT19,
                         charge=("FC", Decimal("12.50")), allowance=("95", Decimal("4.00")))
    credits = [
        issued_document(live, account, po, kind=DocumentKind.CREDIT_NOTE, marketplace=DE,
                        currency="EUR", tax=VAT19, quantity=1, credit_reason=reason,
                        credit_references=refs, original=original)
        for reason, refs, original in (
            # The linked original wins over a typed reference (the XML's BT-25)
            (CreditReason.PRICE, {"referenceInvoiceNumber": "INV-TYPO"}, eu),
            # A credit of an invoice sent before ACORN: the typed reference
            (CreditReason.QUANTITY, {"referenceInvoiceNumber": "INV-EXTERNAL-1"}, None),
            (CreditReason.RETURN, {"returnsReferenceNumber": "RN-4711",
                                   "goodsReturnDate": TODAY.isoformat(), "rmaId": "RMA-9",
                                   "consignorsReferenceNumber": "VRET-3"}, eu),
            (CreditReason.COOP, {"coopReferenceNumber": "COOP-26-1"}, None),
            (CreditReason.COOP, {"debitNoteNumber": "DN-88"}, None),
        )
    ]
    return po, us, eu, credits


# --- conformance and mapping -----------------------------------------------------------


def test_every_generated_payload_conforms_to_amazons_official_model(live, account, sandbox):
    assert OFFICIAL_MODEL.is_file(), f"the official model is missing: {OFFICIAL_MODEL}"
    official = json.loads(OFFICIAL_MODEL.read_text())
    assert "SubmitInvoicesRequest" in official["definitions"]
    _po, us, eu, credits = _all_kinds(live, account, sandbox)
    for document in (us, eu, *credits):
        payload = _payload(document)
        assert conformance.validate_request(operation_id="submitInvoices", body=payload) == [], (
            document.number)
        assert invoice_payload_problems(payload) == [], document.number


def test_the_payload_maps_the_record(live, account, sandbox):
    po, us, eu, credits = _all_kinds(live, account, sandbox)
    (invoice,) = _payload(eu)["invoices"]
    assert invoice["invoiceType"] == "Invoice"
    assert invoice["id"] == eu.number
    assert invoice["date"] == f"{TODAY.isoformat()}T00:00:00Z"
    assert invoice["remitToParty"]["partyId"] == "DEMO1"
    assert invoice["remitToParty"]["address"]["postalOrZipCode"] == "10117"
    assert invoice["remitToParty"]["taxRegistrationDetails"] == [
        {"taxRegistrationType": "VAT", "taxRegistrationNumber": "DE136695976"}]
    assert invoice["billToParty"]["partyId"] == "AMAZON-EU"
    assert invoice["invoiceTotal"] == {"currencyCode": "EUR",
                                       "amount": f"{eu.tax_inclusive_total:.2f}"}
    assert invoice["chargeDetails"] == [{"type": "Freight", "chargeAmount": {
        "currencyCode": "EUR", "amount": "12.50"}, "description": "Freight"}]
    assert invoice["allowanceDetails"][0]["type"] == "Discount"
    (tax,) = invoice["taxDetails"]
    assert (tax["taxType"], tax["taxRate"]) == ("VAT", "19")
    assert Decimal(tax["taxAmount"]["amount"]) == eu.tax_total
    for item, line in zip(invoice["items"], po.lines, strict=True):
        assert item["itemSequenceNumber"] == int(line.sequence)
        assert item["amazonProductIdentifier"] == line.asin
        assert item["vendorProductIdentifier"] == line.vendor_sku
        assert item["invoicedQuantity"] == {"amount": line.ordered, "unitOfMeasure": "Eaches",
                                            "unitSize": 1}
        assert Decimal(item["netCost"]["amount"]) == line.net_cost
        assert item["purchaseOrderNumber"] == po.number
    us_invoice = _payload(us)["invoices"][0]
    assert us_invoice["paymentTerms"] == {"type": "Basic", "netDueDays": 30}
    assert us_invoice["taxDetails"][0]["taxType"] == "ST"
    details = [_payload(c)["invoices"][0]["items"][0]["creditNoteDetails"] for c in credits]
    assert details == [
        {"referenceInvoiceNumber": eu.number},
        {"referenceInvoiceNumber": "INV-EXTERNAL-1"},
        {"referenceInvoiceNumber": eu.number, "returnsReferenceNumber": "RN-4711",
         "goodsReturnDate": f"{TODAY}T00:00:00Z",
         "rmaId": "RMA-9", "consignorsReferenceNumber": "VRET-3"},
        {"coopReferenceNumber": "COOP-26-1"},
        {"debitNoteNumber": "DN-88"},
    ]
    assert all(_payload(c)["invoices"][0]["invoiceType"] == "CreditNote" for c in credits)


# --- the payload agrees with the other outputs of the same record --------------------
# The lead extends OUTPUT_VIEWS with the CII XML once invoicing's XML builder
# (h10) is merged: a function (document, payload) -> the same view read from
# factur-x.xml. Until then the payload is compared with the Document itself.


def document_view(document) -> dict:
    return {
        "number": document.number, "type": document.type_code,
        "total": document.tax_inclusive_total.quantize(Decimal("0.01")),
        "tax": document.tax_total.quantize(Decimal("0.01")),
        "lines": [(int(line.item_sequence_number), line.quantity,
                   line.net_unit_cost.normalize(), line.purchase_order_number, line.asin)
                  for line in document.lines],
        "original_invoice": document.original_invoice_number or None,
    }


def payload_view(document, payload) -> dict:
    (invoice,) = payload["invoices"]
    items = invoice["items"]
    return {
        "number": invoice["id"],
        "type": {"Invoice": "380", "CreditNote": "381"}[invoice["invoiceType"]],
        "total": Decimal(invoice["invoiceTotal"]["amount"]),
        "tax": sum((Decimal(t["taxAmount"]["amount"]) for t in invoice.get("taxDetails", [])),
                   Decimal(0)).quantize(Decimal("0.01")),
        "lines": [(i["itemSequenceNumber"], i["invoicedQuantity"]["amount"],
                   Decimal(i["netCost"]["amount"]).normalize(), i.get("purchaseOrderNumber"),
                   i.get("amazonProductIdentifier")) for i in items],
        "original_invoice": (items[0].get("creditNoteDetails") or {}).get(
            "referenceInvoiceNumber") if document.original_invoice_number else None,
    }


OUTPUT_VIEWS = {"submitInvoices payload": payload_view}


def test_outputs_agree_on_totals_lines_and_references(live, account, sandbox):
    _po, us, eu, credits = _all_kinds(live, account, sandbox)
    for record in (us, eu, *credits):
        document = document_from_invoice(Invoice.objects.get(pk=record.pk))
        payload = _payload(record)
        expected = document_view(document)
        for name, view in OUTPUT_VIEWS.items():
            assert view(document, payload) == expected, (name, record.number)


# --- sending ------------------------------------------------------------------------------


def test_an_invoice_is_sent_once_and_its_transaction_tracked(live, account, sandbox,
                                                             quick_client):
    po = sandbox_po(sandbox)
    invoice = issued_document(live, account, po)
    outcome = invoice_submit(tenant=live, invoice_id=invoice.pk)
    assert outcome.created
    submission = Submission.objects.get(pk=outcome.submission_id)
    assert (submission.document_type, submission.document_ref, submission.document_version) == (
        DocumentType.INVOICE, invoice.number, 1)
    assert submission.status == SubmissionStatus.SENT
    # Submitting again (double click, bulk overlap) sends nothing
    again = invoice_submit(tenant=live, invoice_id=invoice.pk)
    assert (again.submission_id, again.created) == (submission.pk, False)
    assert sandbox.stats()["calls:submitInvoices"] == 1
    # The transaction is followed to its end
    submissions_poll(tenant=live, now=timezone.now() + datetime.timedelta(minutes=1))
    status = invoice_submission_status(tenant=live, invoice_ids=[invoice.pk])[invoice.pk]
    assert status["state"] == SubmissionStatus.SUCCESS
    assert status["transaction_id"] == submission.transaction_id != ""
    assert list(sandbox.state.invoices) == [invoice.number]


def test_amazons_errors_are_shown(live, account, sandbox, quick_client):
    po = sandbox_po(sandbox)
    # Billed a cent above the PO cost: passes our model checks, Amazon refuses
    invoice = issued_document(live, account, po, cost_delta=Decimal("0.01"))
    invoice_submit(tenant=live, invoice_id=invoice.pk)
    submissions_poll(tenant=live, now=timezone.now() + datetime.timedelta(minutes=1))
    status = invoice_submission_status(tenant=live, invoice_ids=[invoice.pk])[invoice.pk]
    assert status["state"] == SubmissionStatus.FAILURE
    assert {e["code"] for e in status["errors"]} == {"NET_COST_MISMATCH"}
    assert not status["can_retry"]
    html = render_to_string("invoicing/_invoice_submission.html",
                            {"invoice": invoice, "submission_status": status, "tenant": live})
    assert "NET_COST_MISMATCH" in html
    assert status["transaction_id"] in html
    assert sandbox.state.invoices == {}


def test_drafts_and_blocked_invoices_are_refused_and_nothing_is_sent(live, account, sandbox):
    po = sandbox_po(sandbox)
    draft = issued_document(live, account, po, issue=False)
    with pytest.raises(ConflictError, match="issue it first"):
        invoice_submit(tenant=live, invoice_id=draft.pk)
    blocked = issued_document(live, account, po, check_results=[
        {"level": "block", "code": "cost_mismatch", "line": 2,
         "message": "Net cost 10.00 differs from the PO's 9.50."},
        {"level": "warn", "code": "case_pack", "line": 1, "message": "Case pack differs."},
    ])
    with pytest.raises(ApplicationError, match="line 2: Net cost 10.00 differs"):
        invoice_submit(tenant=live, invoice_id=blocked.pk)
    assert Submission.objects.count() == 0
    assert sandbox.stats().get("calls:submitInvoices", 0) == 0
    states = invoice_submission_status(tenant=live, invoice_ids=[draft.pk, blocked.pk])
    assert states[draft.pk]["state"] == SubmissionState.DRAFT
    assert states[blocked.pk]["state"] == SubmissionState.NOT_SUBMITTED


def test_a_payload_amazon_would_refuse_never_leaves(live, account, sandbox):
    po = sandbox_po(sandbox)
    credit = issued_document(live, account, po, kind=DocumentKind.CREDIT_NOTE, marketplace=DE,
                             currency="EUR", tax=VAT19, quantity=1,
                             credit_reason=CreditReason.RETURN,
                             credit_references={"returnsReferenceNumber": "RN-1"})
    with pytest.raises(ApplicationError, match="goodsReturnDate"):
        invoice_submit(tenant=live, invoice_id=credit.pk)
    coop = issued_document(live, account, po, kind=DocumentKind.CREDIT_NOTE, marketplace=DE,
                           currency="EUR", tax=VAT19, quantity=1,
                           credit_reason=CreditReason.COOP)
    with pytest.raises(ApplicationError, match="coopReferenceNumber or debitNoteNumber"):
        invoice_submit(tenant=live, invoice_id=coop.pk)
    assert Submission.objects.count() == 0


def test_a_us_credit_note_is_recorded_not_submitted(live, account, sandbox):
    po = sandbox_po(sandbox)
    original = issued_document(live, account, po)
    credit = issued_document(live, account, po, kind=DocumentKind.CREDIT_NOTE, quantity=1,
                             credit_reason=CreditReason.PRICE, original=original)
    outcome = invoice_submit(tenant=live, invoice_id=credit.pk)
    assert outcome.state == SubmissionState.RECORDED_NOT_SUBMITTED
    assert outcome.message == (
        "Recorded, not submitted: Amazon handles US credits through deductions.")
    assert Submission.objects.count() == 0
    status = invoice_submission_status(tenant=live, invoice_ids=[credit.pk])[credit.pk]
    assert status["state"] == SubmissionState.RECORDED_NOT_SUBMITTED
    html = render_to_string("invoicing/_invoice_submission.html",
                            {"invoice": credit, "submission_status": status, "tenant": live})
    assert "Amazon handles US credits through deductions" in html
    assert "Submit to Amazon" not in html


@pytest.mark.parametrize("marketplace, submitted", [
    (DE, True), (GB, True), (FR, True), (US, False), (CA, False), (JP, False), (AE, False),
])
def test_credit_note_route_per_marketplace(live, account, sandbox, quick_client, marketplace,
                                           submitted):
    po = sandbox_po(sandbox)
    original = issued_document(live, account, po, marketplace=marketplace)
    assert invoice_submit(tenant=live, invoice_id=original.pk).created
    credit = issued_document(live, account, po, kind=DocumentKind.CREDIT_NOTE, quantity=1,
                             marketplace=marketplace, credit_reason=CreditReason.QUANTITY,
                             original=original)
    outcome = invoice_submit(tenant=live, invoice_id=credit.pk)
    assert (outcome.state != SubmissionState.RECORDED_NOT_SUBMITTED) is submitted
    submissions_poll(tenant=live, now=timezone.now() + datetime.timedelta(minutes=1))
    assert (credit.number in sandbox.state.invoices) is submitted
    assert original.number in sandbox.state.invoices


def test_the_documented_credit_note_countries():
    from invoicing.document import Party

    nobody = Party(name="")
    assert CREDIT_NOTE_API_COUNTRIES == {"ES", "IN", "IE", "ZA", "BE", "FR", "EG", "PL", "NL",
                                         "GB", "DE", "SE", "SA", "IT"}
    assert credit_note_country(marketplace_id=US, buyer=nobody, seller=nobody) == "US"
    assert credit_note_country(marketplace_id=DE, buyer=nobody, seller=nobody) is None


def test_bulk_submit_sends_the_good_ones_and_names_the_refused(live, account, sandbox,
                                                              quick_client):
    po = sandbox_po(sandbox)
    first = issued_document(live, account, po)
    draft = issued_document(live, account, po, issue=False)
    second = issued_document(live, account, po)
    outcomes = invoices_submit(tenant=live, invoice_ids=[first.pk, draft.pk, second.pk,
                                                         first.pk, 999999])
    states = [(o.invoice_id, o.state) for o in outcomes]
    assert states == [
        (first.pk, SubmissionStatus.SENT), (draft.pk, SubmissionState.REFUSED),
        (second.pk, SubmissionStatus.SENT), (999999, SubmissionState.REFUSED),
    ]
    assert "issue it first" in outcomes[1].message
    assert sandbox.stats()["calls:submitInvoices"] == 2


def test_bulk_submit_page_and_single_submit_page(live, account, sandbox, quick_client,
                                                member_client):
    po = sandbox_po(sandbox)
    first = issued_document(live, account, po)
    second = issued_document(live, account, po)
    browser = member_client(live, role="operations")
    response = browser.post(reverse("invoicing:invoice_bulk_submit",
                                    kwargs={"tenant_slug": live.slug}),
                            {"invoice_ids": [str(first.pk), str(second.pk)]})
    assert response.status_code == 302
    assert Submission.objects.count() == 2
    single = reverse("invoicing:invoice_submit",
                     kwargs={"tenant_slug": live.slug, "invoice_id": first.pk})
    response = browser.post(single)
    assert response.status_code == 302
    assert sandbox.stats()["calls:submitInvoices"] == 2
    viewer = member_client(live, role="viewer")
    assert viewer.post(single).status_code == 403


# --- lost answers ----------------------------------------------------------------------


@pytest.mark.parametrize("status", [502, 504])
def test_a_gateway_error_after_amazon_applied_it_leaves_one_invoice(
        live, account, sandbox, quick_client, status):
    po = sandbox_po(sandbox)
    invoice = issued_document(live, account, po)
    sandbox.control("POST", "/_sandbox/faults", {"faults": [
        {"operation": "submitInvoices", "kind": "status_after", "status": status,
         "count": 1}]})
    outcome = invoice_submit(tenant=live, invoice_id=invoice.pk)
    submission = Submission.objects.get(pk=outcome.submission_id)
    assert submission.status == SubmissionStatus.OUTCOME_UNKNOWN
    # Six hours of poll rounds: Amazon has no invoice read API, so the
    # invoice is never sent again automatically
    start = timezone.now()
    for minutes in range(0, 6 * 60, 10):
        submissions_poll(tenant=live, now=start + datetime.timedelta(minutes=minutes))
    assert sandbox.stats()["calls:submitInvoices"] == 1
    assert list(sandbox.state.invoices) == [invoice.number]
    status_entry = invoice_submission_status(tenant=live, invoice_ids=[invoice.pk])[invoice.pk]
    assert status_entry["state"] == SubmissionStatus.OUTCOME_UNKNOWN
    assert status_entry["can_retry"]
    html = render_to_string("invoicing/_invoice_submission.html", {
        "invoice": invoice, "submission_status": status_entry, "tenant": live})
    assert "Reconcile and retry" in html


def test_another_tenants_invoice_is_not_found(live, account, sandbox, tenant_b):
    from acorn.exceptions import NotFoundError

    po = sandbox_po(sandbox)
    invoice = issued_document(live, account, po)
    with pytest.raises(NotFoundError):
        invoice_submit(tenant=tenant_b, invoice_id=invoice.pk)
    (outcome,) = invoices_submit(tenant=tenant_b, invoice_ids=[invoice.pk])
    assert outcome.state == SubmissionState.REFUSED
    assert invoice_submission_status(tenant=tenant_b, invoice_ids=[invoice.pk]) == {}
    assert Submission.objects.count() == 0


def test_the_status_of_many_invoices_takes_two_queries(live, account, sandbox, quick_client,
                                                       django_assert_num_queries):
    po = sandbox_po(sandbox)
    invoices = [issued_document(live, account, po) for _ in range(3)]
    invoice_submit(tenant=live, invoice_id=invoices[0].pk)
    credit = issued_document(live, account, po, kind=DocumentKind.CREDIT_NOTE, quantity=1,
                             credit_reason=CreditReason.PRICE, original=invoices[0])
    ids = [i.pk for i in invoices] + [credit.pk]
    with django_assert_num_queries(2):
        states = invoice_submission_status(tenant=live, invoice_ids=ids)
    assert [states[i]["state"] for i in ids] == [
        SubmissionStatus.SENT, SubmissionState.NOT_SUBMITTED, SubmissionState.NOT_SUBMITTED,
        SubmissionState.RECORDED_NOT_SUBMITTED]
