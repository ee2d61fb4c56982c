"""From the shipment page and the bulk list: ops draft invoices for
shipped POs through the real channels flow, once per PO and shipment."""

import pytest
from django.urls import reverse

from invoicing.models import Invoice
from invoicing.tests.services.test_invoice_from_shipment import seller_setup, shipped

pytestmark = pytest.mark.django_db(transaction=True)


def test_shipment_page_links_and_drafts_one_invoice_per_po(live, live_account, sandbox,
                                                            fast_retries, member_client):
    seller_setup(live)
    shipment, po, _lines = shipped(live, live_account, sandbox, fast_retries)
    client = member_client(live, role="operations")
    detail = client.get(reverse("channels:shipment_detail",
                                kwargs={"tenant_slug": live.slug, "shipment_id": shipment.pk}))
    url = reverse("invoicing:invoice_from_shipment",
                  kwargs={"tenant_slug": live.slug, "shipment_id": shipment.pk})
    assert url in detail.content.decode()
    page = client.get(url).content.decode()
    assert po.number in page and 'id="invoice-shipment"' in page
    assert client.post(url).status_code == 302
    assert client.post(url).status_code == 302  # a second press changes nothing
    (invoice,) = Invoice.objects.filter(shipment_id=shipment.pk)
    assert invoice.purchase_order_number == po.number
    assert invoice.get_status_display() in client.get(url).content.decode()


def test_bulk_page_lists_uninvoiced_pos_and_answers_per_po(live, live_account, sandbox,
                                                           fast_retries, member_client):
    seller_setup(live)
    shipment, po, _lines = shipped(live, live_account, sandbox, fast_retries)
    client = member_client(live, role="operations")
    url = reverse("invoicing:invoice_bulk", kwargs={"tenant_slug": live.slug})
    listing = client.get(url).content.decode()
    assert f'value="{shipment.pk}:{po.pk}"' in listing
    answer = client.post(url, {"pair": [f"{shipment.pk}:{po.pk}", f"{shipment.pk}:999999"]})
    body = answer.content.decode()
    assert answer.status_code == 200
    assert "Draft created" in body
    assert "is not on shipment" in body
    assert Invoice.objects.filter(shipment_id=shipment.pk).count() == 1
    assert f'value="{shipment.pk}:{po.pk}"' not in client.get(url).content.decode()
