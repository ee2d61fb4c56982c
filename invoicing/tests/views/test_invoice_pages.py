"""Invoice pages: lists in a fixed number of queries, the detail with its
findings in both languages, issue and credit notes from the page, and
the admin pages for tax profiles and number series."""

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from acorn.tenancy import tenant_scope
from invoicing.models import Invoice, InvoiceStatus, TaxProfile
from invoicing.services import invoice_check
from invoicing.services.issue import invoice_issue, invoice_recalculate
from invoicing.tests.factories import InvoiceFactory, InvoiceLineFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("in_tenant_a")]


def _invoice(tenant, lines=2, issued=False):
    with tenant_scope(tenant):
        invoice = InvoiceFactory(tenant=tenant)
        for number in range(1, lines + 1):
            InvoiceLineFactory(invoice=invoice, line_number=number)
        invoice_recalculate(invoice=invoice)
        if issued:
            invoice = invoice_issue(tenant=tenant, invoice_id=invoice.pk)
    return invoice


def _queries(client, url) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured)


def test_invoice_list_queries_do_not_grow_with_rows(tenant_a, member_client):
    client = member_client(tenant_a)
    url = reverse("invoicing:invoice_list", kwargs={"tenant_slug": tenant_a.slug})
    _invoice(tenant_a)
    one = _queries(client, url)
    for _ in range(5):
        _invoice(tenant_a, lines=3)
    assert _queries(client, url) == one


def test_credit_note_list_queries_do_not_grow_with_rows(tenant_a, member_client):
    from invoicing.services import credit_note_create

    client = member_client(tenant_a)
    url = reverse("invoicing:credit_note_list", kwargs={"tenant_slug": tenant_a.slug})
    original = _invoice(tenant_a, issued=True)
    credit_note_create(tenant=tenant_a, original_invoice_id=original.pk, reason="coop",
                       amount=Decimal("1"), references={"coopReferenceNumber": "C1"})
    one = _queries(client, url)
    for index in range(4):
        credit_note_create(tenant=tenant_a, original_invoice_id=original.pk, reason="coop",
                           amount=Decimal("1"), references={"coopReferenceNumber": f"C{index}"})
    assert _queries(client, url) == one


def test_list_filters_by_status_and_po(tenant_a, member_client):
    draft = _invoice(tenant_a)
    issued = _invoice(tenant_a, issued=True)
    client = member_client(tenant_a)
    url = reverse("invoicing:invoice_list", kwargs={"tenant_slug": tenant_a.slug})
    page = client.get(url, {"status": "issued"}).content.decode()
    assert issued.number in page and draft.purchase_order_number not in page
    page = client.get(url, {"purchase_order_number": draft.purchase_order_number}).content.decode()
    assert draft.purchase_order_number in page and issued.number not in page


def test_detail_shows_findings_translated_and_blocks_issue(tenant_a, member_client):
    # Given a draft whose line bills nothing on a PO (a blocking finding)
    invoice = _invoice(tenant_a)
    invoice_check(tenant=tenant_a, invoice_id=invoice.pk)
    client = member_client(tenant_a, role="operations")
    url = reverse("invoicing:invoice_detail",
                  kwargs={"tenant_slug": tenant_a.slug, "invoice_id": invoice.pk})
    page = client.get(url).content.decode()
    assert "Line 1 bills nothing on the PO." in page
    assert 'id="issue-button" disabled' in page
    # And in Chinese the same finding is shown in Chinese
    zh = client.get(url, HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "第 1 行" in zh
    # When ops press issue anyway, Then it is refused and nothing is numbered
    issue = reverse("invoicing:invoice_issue",
                    kwargs={"tenant_slug": tenant_a.slug, "invoice_id": invoice.pk})
    response = client.post(issue, follow=True)
    assert "blocking problem" in response.content.decode()
    invoice.refresh_from_db()
    assert invoice.status == InvoiceStatus.DRAFT and invoice.number == ""


def test_viewer_cannot_issue(tenant_a, member_client):
    invoice = _invoice(tenant_a)
    client = member_client(tenant_a, role="viewer")
    issue = reverse("invoicing:invoice_issue",
                    kwargs={"tenant_slug": tenant_a.slug, "invoice_id": invoice.pk})
    assert client.post(issue).status_code == 403


def test_credit_note_page_creates_a_bounded_draft(tenant_a, member_client):
    invoice = _invoice(tenant_a, issued=True)
    line = invoice.lines.get(line_number=1)
    client = member_client(tenant_a, role="operations")
    url = reverse("invoicing:credit_note_create",
                  kwargs={"tenant_slug": tenant_a.slug, "invoice_id": invoice.pk})
    assert invoice.number in client.get(url).content.decode()
    too_many = client.post(url, {"reason": "return", f"qty_{line.pk}": line.quantity + 1,
                                 "returnsReferenceNumber": "R-1",
                                 "goodsReturnDate": "2026-11-30"})
    assert too_many.status_code == 200 and "left to credit" in too_many.content.decode()
    assert not Invoice.objects.filter(kind="credit_note").exists()
    ok = client.post(url, {"reason": "return", f"qty_{line.pk}": "2",
                           "returnsReferenceNumber": "R-1", "goodsReturnDate": "2026-11-30"})
    assert ok.status_code == 302
    credit = Invoice.objects.get(kind="credit_note")
    assert credit.credit_references == {"returnsReferenceNumber": "R-1",
                                        "goodsReturnDate": "2026-11-30"}
    assert credit.lines.get().quantity == 2


def test_tax_profile_pages_validate_and_save(tenant_a, member_client):
    client = member_client(tenant_a, role="admin")
    url = reverse("invoicing:tax_profile_list", kwargs={"tenant_slug": tenant_a.slug})
    refused = client.post(url, {"name": "IC", "marketplace_id": "A1PA6795UKMFR9",
                                "category": "K", "rate": "0"})
    assert refused.status_code == 200 and "VATEX" in refused.content.decode()
    assert client.post(url, {"name": "IC", "marketplace_id": "A1PA6795UKMFR9",
                             "category": "K", "rate": "0",
                             "exemption_reason_code": "VATEX-EU-IC"}).status_code == 302
    profile = TaxProfile.objects.get()
    edit = reverse("invoicing:tax_profile_edit",
                   kwargs={"tenant_slug": tenant_a.slug, "profile_id": profile.pk})
    assert client.post(edit, {"delete": "1"}).status_code == 302
    assert not TaxProfile.objects.exists()
    ops = member_client(tenant_a, role="operations")
    assert ops.get(url).status_code == 403


def test_series_page_never_lowers_the_next_number(tenant_a, member_client):
    series = _invoice(tenant_a, issued=True).series
    client = member_client(tenant_a, role="admin")
    url = reverse("invoicing:series_edit",
                  kwargs={"tenant_slug": tenant_a.slug, "series_id": series.pk})
    assert "INV-000002" in client.get(url).content.decode()
    response = client.post(url, {"prefix": "R-", "padding": "4", "is_default": "on",
                                 "next_number": "1"})
    assert response.status_code == 302
    series.refresh_from_db()
    assert (series.prefix, series.padding, series.next_number) == ("R-", 4, 2)
    listing = client.get(reverse("invoicing:series_list", kwargs={"tenant_slug": tenant_a.slug}))
    assert "R-0002" in listing.content.decode()
