"""The acknowledgement review fits a laptop screen (a real browser)."""

import pytest

from acorn.models import Role
from acorn.tenancy import tenant_scope
from acorn.tests.factories import TEST_PASSWORD, UserFactory, membership_create

LAPTOP = {"width": 1440, "height": 900}


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_acknowledgement_review_has_no_horizontal_scroll_at_1440(
    live_server, browser_page, tenant_a, language
):
    from channels.tests.factories import (
        AmazonVendorAccountFactory,
        PurchaseOrderFactory,
        PurchaseOrderLineFactory,
    )
    from inventory.tests.factories import ProductFactory

    # Given a PO with a few lines waiting for review and an operations user
    with tenant_scope(tenant_a):
        account = AmazonVendorAccountFactory(tenant=tenant_a)
        po = PurchaseOrderFactory(tenant=tenant_a, account=account, number="PO4WIDE1")
        for number in range(1, 4):
            product = ProductFactory(tenant=tenant_a, sku=f"LONG-SKU-NAME-{number:04d}")
            PurchaseOrderLineFactory(tenant=tenant_a, purchase_order=po, product=product,
                                     item_sequence_number=str(number))
    user = UserFactory(username="e2e-ops")
    membership_create(tenant=tenant_a, user=user, role=Role.OPERATIONS)
    page = browser_page
    page.set_viewport_size(LAPTOP)
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("#id_username", "e2e-ops")
    page.fill("#id_password", TEST_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"**/t/{tenant_a.slug}/")
    if language != "en":
        page.select_option("#language", language)
        page.wait_for_load_state("networkidle")

    # When the review page opens on a 1,440 px wide screen
    page.goto(f"{live_server.url}/t/{tenant_a.slug}/purchase-orders/{po.pk}/acknowledgement/")

    # Then nothing is wider than the window and every input is reachable
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= LAPTOP["width"], f"page is {width}px wide"
    for field in ("accept", "backorder", "reject", "net_cost"):
        box = page.locator(f"input[name^={field}_]").first.bounding_box()
        assert box["x"] + box["width"] <= LAPTOP["width"]
