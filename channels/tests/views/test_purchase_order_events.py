"""Events on the PO page read as words in the reader's language."""

import pytest
from django.urls import reverse
from django.utils import timezone

from acorn.models import Role
from acorn.tenancy import tenant_scope
from channels.models import PurchaseOrderEvent, PurchaseOrderEventKind
from channels.tests.factories import (
    AmazonVendorAccountFactory,
    PurchaseOrderFactory,
    PurchaseOrderLineFactory,
)


@pytest.fixture
def po_with_events(tenant_a):
    with tenant_scope(tenant_a):
        po = PurchaseOrderFactory(tenant=tenant_a, account=AmazonVendorAccountFactory(
            tenant=tenant_a))
        PurchaseOrderLineFactory(tenant=tenant_a, purchase_order=po, item_sequence_number="1")
        now = timezone.now()
        for key, kind, detail in [
            ("u", PurchaseOrderEventKind.LINE_UNMAPPED, {"line": "3", "asin": "B0UNMAPPED"}),
            ("s", PurchaseOrderEventKind.STATE_CHANGED, {"from": "New", "to": "Acknowledged"}),
            ("f", PurchaseOrderEventKind.ACK_FAILED, {"version": 2, "errors": [
                {"code": "InvalidInput", "message": "Quantity exceeds the ordered quantity."}]}),
            ("c", PurchaseOrderEventKind.CHANGED, {"acknowledged": True}),
        ]:
            PurchaseOrderEvent.objects.create(tenant=tenant_a, purchase_order=po, kind=kind,
                                              dedupe_key=key, occurred_at=now, detail=detail)
    return po


@pytest.mark.django_db
def test_event_details_are_labelled_text_not_a_python_dict(member_client, tenant_a,
                                                          po_with_events):
    client = member_client(tenant_a, Role.VIEWER)
    url = reverse("channels:po_detail", args=[tenant_a.slug, po_with_events.pk])
    page = client.get(url).content.decode()
    assert "{&#x27;" not in page and "{'" not in page
    assert "<strong>Line:</strong> 3" in page and "<strong>ASIN:</strong> B0UNMAPPED" in page
    assert "<strong>From:</strong> New" in page
    assert "InvalidInput: Quantity exceeds the ordered quantity." in page
    assert "<strong>Already acknowledged:</strong> yes" in page


@pytest.mark.django_db
def test_event_details_are_translated_for_a_chinese_reader(member_client, tenant_a,
                                                          po_with_events):
    client = member_client(tenant_a, Role.VIEWER)
    client.post(reverse("set_language"), {"language": "zh-hans"})
    url = reverse("channels:po_detail", args=[tenant_a.slug, po_with_events.pk])
    page = client.get(url).content.decode()
    assert "<strong>行:</strong> 3" in page
    assert "<strong>已确认:</strong> 是" in page
