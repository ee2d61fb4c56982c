"""Second-half pages and APIs: role checks, review/edit/send through the
page, shipment builder, KPIs, and query counts that do not grow with rows."""

import datetime
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from acorn.tenancy import tenant_scope
from channels.models import (
    AckStatus,
    DocumentType,
    Gs1Settings,
    PurchaseOrderEvent,
    PurchaseOrderEventKind,
    Shipment,
    Submission,
)
from channels.selectors.kpis import vendor_kpis
from channels.services.acknowledgements import acknowledgement_plan
from channels.services.shipments import shipment_create
from channels.tests.factories import (
    AmazonVendorAccountFactory,
    PurchaseOrderFactory,
    PurchaseOrderLineFactory,
)
from inventory.services.stock import stock_receive
from inventory.tests.factories import ProductFactory, WarehouseFactory


@pytest.fixture
def world(tenant_a):
    """An account, a warehouse with stock, and a helper making planned POs."""
    with tenant_scope(tenant_a):
        account = AmazonVendorAccountFactory(tenant=tenant_a, ack_auto_send="never")
        warehouse = WarehouseFactory(tenant=tenant_a)
        product = ProductFactory(tenant=tenant_a)
        stock_receive(tenant=tenant_a, product=product, warehouse=warehouse, quantity=10_000)
        Gs1Settings.objects.create(tenant=tenant_a, company_prefix="0614141")

    def make_po(status=AckStatus.REVIEW, lines=2):
        with tenant_scope(tenant_a):
            po = PurchaseOrderFactory(tenant=tenant_a, account=account,
                                      selling_party_id="DEMO1")
            for seq in range(1, lines + 1):
                PurchaseOrderLineFactory(tenant=tenant_a, purchase_order=po, product=product,
                                         item_sequence_number=str(seq), ordered_quantity=5)
            acknowledgement_plan(tenant=tenant_a, purchase_order=po)
            po.refresh_from_db()
            if status != po.ack_status:
                po.ack_status = status
                po.save()
        return po

    return {"account": account, "warehouse": warehouse, "product": product, "make_po": make_po}


def _url(name, tenant, **kwargs):
    return reverse(f"channels:{name}", kwargs={"tenant_slug": tenant.slug, **kwargs})


def test_viewer_cannot_act(tenant_a, world, member_client):
    """Viewers may read shipments and submissions, never post (403)."""
    po = world["make_po"]()
    client = member_client(tenant_a, "viewer")
    assert client.get(_url("ack_queue", tenant_a)).status_code == 403
    assert client.get(_url("shipment_list", tenant_a)).status_code == 200
    assert client.get(_url("submission_list", tenant_a)).status_code == 200
    assert client.get(_url("vendor_kpis", tenant_a)).status_code == 200
    for name, kwargs in [("ack_review", {"purchase_order_id": po.pk}), ("ack_queue", {}),
                         ("shipment_create", {}), ("submission_retry", {"submission_id": 1}),
                         ("shipment_detail", {"shipment_id": 1})]:
        response = client.post(_url(name, tenant_a, **kwargs), {"send": "1"})
        assert response.status_code == 403, name


def test_review_page_edits_and_sends(tenant_a, world, member_client,
                                     django_capture_on_commit_callbacks):
    """Ops edit the plan on the page (rules enforced) and send it once."""
    po = world["make_po"]()
    with tenant_scope(tenant_a):
        lines = list(po.lines.order_by("item_sequence_number"))
    client = member_client(tenant_a, "operations")
    url = _url("ack_review", tenant_a, purchase_order_id=po.pk)
    assert client.get(url).status_code == 200

    def form(accept, reject, cost="9.99"):
        data = {}
        for line in lines:
            data.update({f"accept_{line.pk}": accept, f"backorder_{line.pk}": 0,
                         f"reject_{line.pk}": reject, f"net_cost_{line.pk}": cost,
                         f"rejection_reason_{line.pk}": ""})
        return data

    refused = client.post(url, form(5, 0, cost="10.50"))
    assert refused.status_code == 400
    assert "may not exceed the PO" in refused.content.decode()
    assert client.post(url, form(3, 2)).status_code == 302
    with tenant_scope(tenant_a):
        assert [ln.planned_accept for ln in po.lines.order_by("item_sequence_number")] == [3, 3]
        assert PurchaseOrderEvent.objects.filter(
            purchase_order=po, kind=PurchaseOrderEventKind.PLAN_EDITED).exists()
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        assert client.post(url, {"send": "1"}).status_code == 302
        assert client.post(url, {"send": "1"}).status_code == 302
    with tenant_scope(tenant_a):
        assert Submission.objects.filter(document_type=DocumentType.ACKNOWLEDGEMENT).count() == 1
        po.refresh_from_db()
        assert po.ack_status == AckStatus.QUEUED
    # One send task enqueued, after commit
    assert len(callbacks) == 1


def test_shipment_builder_creates_a_draft_with_sscc_cartons(tenant_a, world, member_client):
    po = world["make_po"](status=AckStatus.ACCEPTED)
    with tenant_scope(tenant_a):
        lines = list(po.lines.order_by("item_sequence_number"))
    client = member_client(tenant_a, "operations")
    page = client.get(_url("shipment_create", tenant_a) + f"?ship_to={po.ship_to_party_id}")
    assert po.number in page.content.decode()
    response = client.post(_url("shipment_create", tenant_a), {
        "ship_to": po.ship_to_party_id, "warehouse": world["warehouse"].pk,
        "shipment_type": "SmallParcel", "carton_mode": "per_line",
        **{f"qty_{ln.pk}": 5 for ln in lines}, f"coo_{lines[0].pk}": "de",
    })
    assert response.status_code == 302, response.content.decode()[:500]
    with tenant_scope(tenant_a):
        shipment = Shipment.objects.get()
        assert shipment.cartons.count() == 2
        assert shipment.items.get(item_sequence_number=1).country_of_origin == "DE"
        sscc = shipment.cartons.first().sscc
    detail = client.get(_url("shipment_detail", tenant_a, shipment_id=shipment.pk))
    assert sscc in detail.content.decode()
    labels = client.get(_url("shipment_labels", tenant_a, shipment_id=shipment.pk))
    assert labels["Content-Type"] == "application/pdf"


def test_builder_palletises_and_page_api_and_labels_show_pallets(
        tenant_a, world, member_client, api_client_for):
    """N cartons per pallet from the builder; the page, the API and the
    labels PDF show the pallets with their SSCCs."""
    # Given an accepted PO of two lines
    po = world["make_po"](status=AckStatus.ACCEPTED)
    with tenant_scope(tenant_a):
        lines = list(po.lines.order_by("item_sequence_number"))
    client = member_client(tenant_a, "operations")
    # When a truck shipment is built with one carton per line, one per pallet
    response = client.post(_url("shipment_create", tenant_a), {
        "ship_to": po.ship_to_party_id, "warehouse": world["warehouse"].pk,
        "shipment_type": "LessThanTruckLoad", "carton_mode": "per_line",
        "cartons_per_pallet": 1, "bill_of_lading_number": "BOL-1",
        **{f"qty_{ln.pk}": 5 for ln in lines},
    })
    assert response.status_code == 302, response.content.decode()[:500]
    # Then two pallets hold one carton each
    with tenant_scope(tenant_a):
        shipment = Shipment.objects.get()
        pallets = list(shipment.pallets.order_by("sequence_number"))
    assert len(pallets) == 2
    # And the page, the API and the labels show them
    detail = client.get(_url("shipment_detail", tenant_a, shipment_id=shipment.pk))
    assert all(p.sscc in detail.content.decode() for p in pallets)
    api = api_client_for(tenant_a)
    (row,) = api.get(reverse("api:channels:shipment_list")).json()["results"]
    assert [p["sscc"] for p in row["pallets"]] == [p.sscc for p in pallets]
    assert [p["cartons"][0]["sequence_number"] for p in row["pallets"]] == [1, 2]
    assert row["cartons"][0]["pallet_sscc"] == pallets[0].sscc
    assert row["shipment_structure"] == "PalletizedAssortmentCase"
    labels = client.get(_url("shipment_labels", tenant_a, shipment_id=shipment.pk))
    pdf = labels.content
    assert pdf.count(b"/Type /Page") - pdf.count(b"/Type /Pages") == 4


def _count(client, url):
    with CaptureQueriesContext(connection) as context:
        response = client.get(url)
    assert response.status_code == 200
    return len(context.captured_queries)


def test_list_pages_and_apis_do_not_query_per_row(tenant_a, world, member_client,
                                                  api_client_for):
    """Query counts stay flat from 1 to 4 rows on every list page and API."""

    def add_rows():
        po = world["make_po"](status=AckStatus.ACCEPTED)
        with tenant_scope(tenant_a):
            Submission.objects.create(
                tenant=tenant_a, account=world["account"], document_ref=po.number,
                document_type=DocumentType.ACKNOWLEDGEMENT, document_version=1, payload={})
            shipment_create(tenant=tenant_a, warehouse=world["warehouse"], lines=[
                {"po_line_id": ln.pk, "quantity": 2} for ln in po.lines.all()])
        world["make_po"]()

    client = member_client(tenant_a, "operations")
    api = api_client_for(tenant_a)
    pages = [_url(n, tenant_a) for n in
             ("ack_queue", "shipment_list", "submission_list", "vendor_kpis")]
    apis = [reverse(f"api:channels:{n}") for n in
            ("shipment_list", "submission_list", "vendor_kpis")]
    add_rows()
    for url in apis:  # the key's last_used_at is touched on first use only
        api.get(url)
    before = [_count(client, url) for url in pages] + [_count(api, url) for url in apis]
    for _ in range(3):
        add_rows()
    after = [_count(client, url) for url in pages] + [_count(api, url) for url in apis]
    assert after == before


def test_vendor_kpis_from_our_events(tenant_a, world):
    """Confirmation, on-time, fill and ASN timeliness from our own records."""
    now = timezone.now()
    on_time = world["make_po"](status=AckStatus.ACCEPTED)
    late = world["make_po"](status=AckStatus.ACCEPTED)
    world["make_po"]()  # due, never acknowledged
    with tenant_scope(tenant_a):
        for po, sent in ((on_time, po_sent := now - datetime.timedelta(hours=1)),
                         (late, late.ack_deadline_at + datetime.timedelta(hours=1))):
            PurchaseOrderEvent.objects.create(
                tenant=tenant_a, purchase_order=po, kind=PurchaseOrderEventKind.ACK_SENT,
                dedupe_key="ack_sent:v1", occurred_at=sent)
        assert po_sent < on_time.ack_deadline_at
        rows = vendor_kpis(tenant=tenant_a, period_start=now - datetime.timedelta(days=1),
                           period_end=now + datetime.timedelta(days=2))
    (row,) = rows
    assert (row.pos_due, row.pos_acknowledged, row.pos_acknowledged_on_time) == (3, 2, 1)
    assert row.confirmation_rate == Decimal("0.6667")
    assert row.on_time_acknowledgement_rate == Decimal("0.3333")
    # Accepted POs: 2 x 2 lines x 5 units accepted, of 30 ordered in all
    assert (row.units_accepted, row.units_ordered) == (20, 30)
    assert row.asn_timeliness_rate is None
