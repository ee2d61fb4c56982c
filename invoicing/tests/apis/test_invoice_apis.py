"""/api/v1/invoices/ and /api/v1/credit-notes/: nested lines and tax
lines, decimals as strings, filters, a fixed number of queries."""

import datetime
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from invoicing.services import credit_note_create
from invoicing.tests.views.test_invoice_pages import _invoice

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("in_tenant_a")]


def _count(api, url, params=None) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert api.get(url, params or {}).status_code == 200
    return len(captured)


def test_invoice_list_nests_lines_and_tax_with_decimal_strings(tenant_a, api_client_for):
    invoice = _invoice(tenant_a, issued=True)
    api = api_client_for(tenant_a)
    body = api.get(reverse("api:invoicing:invoice_list")).json()
    (row,) = body["results"]
    assert row["number"] == invoice.number and row["status"] == "issued"
    assert row["tax_inclusive_total"] == f"{invoice.tax_inclusive_total:.2f}"
    assert isinstance(row["lines"][0]["net_unit_cost"], str)
    assert row["lines"][0]["net_unit_cost"] == "9.9900"
    assert row["tax_lines"][0]["category"] == "S"
    assert row["tax_lines"][0]["tax_amount"] == f"{invoice.tax_total:.2f}"


def test_invoice_list_queries_are_fixed(tenant_a, api_client_for):
    api = api_client_for(tenant_a)
    url = reverse("api:invoicing:invoice_list")
    _invoice(tenant_a)
    _count(api, url)  # the key's last-used touch happens on the first call
    one = _count(api, url)
    for _ in range(5):
        _invoice(tenant_a, lines=3)
    assert _count(api, url) == one


def test_credit_note_list_queries_are_fixed_and_carry_references(tenant_a, api_client_for):
    api = api_client_for(tenant_a)
    url = reverse("api:invoicing:credit_note_list")
    original = _invoice(tenant_a, issued=True)
    line = original.lines.get(line_number=1)
    credit_note_create(tenant=tenant_a, original_invoice_id=original.pk, reason="quantity",
                       lines=[{"invoice_line_id": line.pk, "quantity": 1}])
    _count(api, url)
    one = _count(api, url)
    for _ in range(3):
        credit_note_create(tenant=tenant_a, original_invoice_id=original.pk, reason="coop",
                           amount=Decimal("1"), references={"debitNoteNumber": "DN-7"})
    assert _count(api, url) == one
    rows = api.get(url, {"credit_reason": "quantity"}).json()["results"]
    (pqv,) = rows
    assert pqv["original_invoice_number"] == original.number
    assert pqv["credit_references"] == {"referenceInvoiceNumber": original.number}
    assert pqv["lines"][0]["credited_line_number"] == 1


def test_updated_since_and_status_filters(tenant_a, api_client_for, monkeypatch):
    from acorn.api import UpdatedSincePagination

    old = _invoice(tenant_a)
    cutoff = timezone.now()
    new = _invoice(tenant_a, issued=True)
    # Incremental lists show a row once its update has settled (5 s): move
    # the clock past that instead of waiting.
    later = timezone.now() + datetime.timedelta(seconds=UpdatedSincePagination.SETTLE_SECONDS + 1)
    monkeypatch.setattr(UpdatedSincePagination, "clock", staticmethod(lambda: later))
    api = api_client_for(tenant_a)
    url = reverse("api:invoicing:invoice_list")
    ids = [r["id"] for r in api.get(url, {"updated_since": cutoff.isoformat()}).json()["results"]]
    assert ids == [new.pk]
    ids = [r["id"] for r in api.get(url, {"status": "draft"}).json()["results"]]
    assert ids == [old.pk]
    assert api.get(url, {"status": "bogus"}).status_code == 400


def test_invoice_detail(tenant_a, api_client_for):
    invoice = _invoice(tenant_a)
    body = api_client_for(tenant_a).get(
        reverse("api:invoicing:invoice_detail", kwargs={"invoice_id": invoice.pk})).json()
    assert body["id"] == invoice.pk and len(body["lines"]) == 2
