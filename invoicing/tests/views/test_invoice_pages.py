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


def _shipped_shipment(tenant, index):
    from channels.models import Shipment, ShipmentItem
    from channels.tests.factories import PurchaseOrderFactory, PurchaseOrderLineFactory
    from inventory.tests.factories import WarehouseFactory

    po = PurchaseOrderFactory(tenant=tenant, number=f"PO-BULK-{index}")
    line = PurchaseOrderLineFactory(tenant=tenant, purchase_order=po, item_sequence_number="1")
    shipment = Shipment.objects.create(
        tenant=tenant, account=po.account, shipment_identifier=f"ASN-BULK-{index}",
        ship_to_party_id="ABE2", warehouse=WarehouseFactory(tenant=tenant), status="shipped")
    ShipmentItem.objects.create(tenant=tenant, shipment=shipment, po_line=line,
                                item_sequence_number=1, quantity=2)
    return shipment


def test_bulk_page_queries_do_not_grow_with_rows(tenant_a, member_client):
    client = member_client(tenant_a, role="operations")
    url = reverse("invoicing:invoice_bulk", kwargs={"tenant_slug": tenant_a.slug})
    _shipped_shipment(tenant_a, 0)
    one = _queries(client, url)
    for index in range(1, 6):
        _shipped_shipment(tenant_a, index)
    assert _queries(client, url) == one
    assert "ASN-BULK-5" in client.get(url).content.decode()


def test_settings_lists_queries_do_not_grow_with_rows(tenant_a, member_client):
    from invoicing.services.series import number_series_create
    from invoicing.services.tax_profiles import tax_profile_create

    client = member_client(tenant_a, role="admin")
    profiles = reverse("invoicing:tax_profile_list", kwargs={"tenant_slug": tenant_a.slug})
    series = reverse("invoicing:series_list", kwargs={"tenant_slug": tenant_a.slug})
    tax_profile_create(tenant=tenant_a, data={"name": "P0", "marketplace_id": "M0",
                                              "category": "S", "rate": "19"})
    number_series_create(tenant=tenant_a, code="A0", kind="invoice", prefix="A0-")
    counts = (_queries(client, profiles), _queries(client, series))
    for index in range(1, 5):
        tax_profile_create(tenant=tenant_a, data={"name": f"P{index}",
                                                  "marketplace_id": f"M{index}",
                                                  "category": "S", "rate": "19"})
        number_series_create(tenant=tenant_a, code=f"A{index}", kind="invoice",
                             prefix=f"A{index}-")
    assert (_queries(client, profiles), _queries(client, series)) == counts


def test_drafts_are_deleted_issued_documents_are_not(tenant_a, member_client):
    draft = _invoice(tenant_a)
    issued = _invoice(tenant_a, issued=True)
    client = member_client(tenant_a, role="operations")

    def delete(invoice):
        return client.post(reverse("invoicing:invoice_delete", kwargs={
            "tenant_slug": tenant_a.slug, "invoice_id": invoice.pk}), follow=True)

    assert delete(draft).status_code == 200
    assert not Invoice.objects.filter(pk=draft.pk).exists()
    assert "Only a draft can be deleted" in delete(issued).content.decode()
    assert Invoice.objects.filter(pk=issued.pk, status="issued").exists()


def test_home_card_counts_drafts_and_blocked_ones(tenant_a):
    from invoicing.selectors import overview_cards

    assert overview_cards(tenant=tenant_a) == []
    blocked = _invoice(tenant_a)
    invoice_check(tenant=tenant_a, invoice_id=blocked.pk)  # line_not_on_po blocks
    _invoice(tenant_a)
    from acorn.overview import card_present

    (card,) = overview_cards(tenant=tenant_a)
    assert card["params"] == {"blocked": 1}
    card = card_present(card, tenant=tenant_a)
    assert card["value"] == 2 and card["tone"] == "warning"
    assert str(card["hint"]).startswith("1 ")
