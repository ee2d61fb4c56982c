import pytest
from django.urls import reverse

from acorn.models import AuditEntry
from acorn.services import membership_set, user_create
from acorn.tenancy import tenant_scope
from inventory.models import StockLevel
from inventory.services import purchase_plan_refresh, stock_hold_place, stock_receive
from inventory.tests.factories import ProductFactory, WarehouseFactory


@pytest.fixture
def world(tenant, other_tenant):
    """Tenant A (acme) with stock and a hold; tenant B (globex) with a user."""
    with tenant_scope(tenant):
        warehouse = WarehouseFactory(tenant=tenant, code="MAIN")
        products = [ProductFactory(tenant=tenant) for _ in range(5)]
        for product in products:
            stock_receive(tenant=tenant, product=product, warehouse=warehouse, quantity=5)
        hold = stock_hold_place(tenant=tenant, lines=[{"product": products[0], "quantity": 1}],
                                source_type="amazon_po", source_ref="PO1", idempotency_key="k")
        purchase_plan_refresh(tenant=tenant)
        line = products[0].plans.get()
    with tenant_scope(other_tenant):
        ProductFactory(tenant=other_tenant, sku="FOREIGN-1")
    users = {}
    for name, t, role in (("ops", tenant, "operations"), ("viewer", tenant, "viewer"),
                          ("outsider", other_tenant, "admin")):
        users[name] = user_create(username=name, password="a-long-password-123")
        membership_set(tenant=t, user=users[name], role=role)
    return {"products": products, "hold": hold, "plan_line": line, "users": users}


LIST_PAGES = ["stock_list", "product_list", "hold_list", "purchase_plan", "warehouse_list",
              "product_import", "forecast_import"]


@pytest.mark.parametrize("name", LIST_PAGES)
def test_list_pages_render_without_foreign_rows(client, world, name, django_assert_max_num_queries):
    client.force_login(world["users"]["ops"])
    with django_assert_max_num_queries(20):
        response = client.get(reverse(f"inventory:{name}", kwargs={"tenant_slug": "acme"}))
    assert response.status_code == 200
    assert b"FOREIGN-1" not in response.content


@pytest.mark.parametrize("name", LIST_PAGES)
def test_other_tenants_user_gets_404(client, world, name):
    client.force_login(world["users"]["outsider"])
    response = client.get(reverse(f"inventory:{name}", kwargs={"tenant_slug": "acme"}))
    assert response.status_code == 404


def test_product_detail_is_404_for_foreign_product(client, world, other_tenant):
    """A member of globex opening acme's product in globex's URL gets 404."""
    client.force_login(world["users"]["outsider"])
    product = world["products"][0]
    for name in ("product_detail",):
        url = reverse(f"inventory:{name}", kwargs={"tenant_slug": "globex",
                                                   "product_id": product.pk})
        assert client.get(url).status_code == 404
    for name in ("product_adjust", "product_count", "product_receive", "product_hold"):
        url = reverse(f"inventory:{name}", kwargs={"tenant_slug": "globex",
                                                   "product_id": product.pk})
        data = {"warehouse": "MAIN", "quantity": 1, "note": "x"}
        assert client.post(url, data).status_code == 404
    url = reverse("inventory:hold_release", kwargs={"tenant_slug": "globex",
                                                    "hold_id": world["hold"].pk})
    assert client.post(url).status_code == 404
    url = reverse("inventory:purchase_plan_review", kwargs={
        "tenant_slug": "globex", "line_id": world["plan_line"].pk})
    assert client.post(url, {"status": "approved"}).status_code == 404


def test_product_detail_renders(client, world, django_assert_max_num_queries):
    client.force_login(world["users"]["viewer"])
    url = reverse("inventory:product_detail", kwargs={"tenant_slug": "acme",
                                                      "product_id": world["products"][0].pk})
    with django_assert_max_num_queries(25):
        response = client.get(url)
    assert response.status_code == 200
    assert b"PO1" in response.content


def test_viewer_cannot_adjust(client, world):
    client.force_login(world["users"]["viewer"])
    url = reverse("inventory:product_adjust", kwargs={"tenant_slug": "acme",
                                                      "product_id": world["products"][0].pk})
    response = client.post(url, {"warehouse": "MAIN", "quantity": -1, "reason": "damage"})
    assert response.status_code == 403


def test_operations_adjusts_and_it_is_audited(client, world, tenant):
    client.force_login(world["users"]["ops"])
    product = world["products"][1]
    url = reverse("inventory:product_adjust", kwargs={"tenant_slug": "acme",
                                                      "product_id": product.pk})
    response = client.post(url, {"warehouse": "MAIN", "quantity": -2, "reason": "damage",
                                 "idempotency_key": "form-1"})
    assert response.status_code == 302
    # A double submit of the same form changes nothing more.
    client.post(url, {"warehouse": "MAIN", "quantity": -2, "reason": "damage",
                      "idempotency_key": "form-1"})
    with tenant_scope(tenant):
        assert StockLevel.objects.get(product=product).on_hand == 3
        assert AuditEntry.objects.filter(summary__startswith="Stock adjustment").exists()


def test_count_sets_on_hand(client, world, tenant):
    client.force_login(world["users"]["ops"])
    product = world["products"][2]
    url = reverse("inventory:product_count", kwargs={"tenant_slug": "acme",
                                                     "product_id": product.pk})
    client.post(url, {"warehouse": "MAIN", "quantity": 7, "reason": "cycle count"})
    with tenant_scope(tenant):
        assert StockLevel.objects.get(product=product).on_hand == 7


def test_exports(client, world):
    client.force_login(world["users"]["viewer"])
    for name in ("product_export", "purchase_plan_export"):
        for file_format in ("csv", "xlsx"):
            url = reverse(f"inventory:{name}", kwargs={"tenant_slug": "acme"})
            response = client.get(url, {"format": file_format})
            assert response.status_code == 200
            assert b"FOREIGN-1" not in response.content


@pytest.mark.django_db
def test_a_receipt_from_the_product_page_is_not_refused_by_input_cleaning(member_client, tenant):
    """Regression: the movement form's lot field was named ``lot_number``,
    which the input-cleaning layer reads as a shipment ``lot_<id>`` field
    with a bad id, so every receipt, count and adjustment from the product
    page answered 400 (found by the first-tenant browser walk)."""
    from django.urls import reverse

    from acorn.tenancy import tenant_scope
    from inventory.models import StockLevel
    from inventory.tests.factories import ProductFactory, WarehouseFactory

    with tenant_scope(tenant):
        WarehouseFactory(tenant=tenant, code="SZX")
        product = ProductFactory(tenant=tenant, sku="TEA-100", is_lot_tracked=True)
        StockLevel.objects.get_or_create(tenant=tenant, product=product)
    ops = member_client(tenant, "operations")
    page = ops.get(reverse("inventory:product_detail", args=[tenant.slug, product.pk]))
    assert 'name="lot"' in page.content.decode()
    response = ops.post(reverse("inventory:product_receive", args=[tenant.slug, product.pk]),
                        {"warehouse": "SZX", "quantity": "24", "lot": "L-7", "reason": ""})
    assert response.status_code == 302
    shown = [str(m) for m in ops.get(response["Location"]).context["messages"]]
    assert shown == ["Stock updated."], shown
    with tenant_scope(tenant):
        assert StockLevel.objects.get(product=product).on_hand == 24
