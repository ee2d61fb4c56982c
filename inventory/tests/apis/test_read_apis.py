import pytest
from django.urls import reverse

from acorn.services import api_key_create
from acorn.tenancy import tenant_scope
from inventory.services import purchase_plan_refresh, stock_receive
from inventory.tests.factories import ProductFactory, WarehouseFactory

ENDPOINTS = ["product_list", "stock_list", "movement_list", "purchase_plan_list"]


@pytest.fixture
def keys(tenant, other_tenant):
    for t, prefix in ((tenant, "A"), (other_tenant, "B")):
        with tenant_scope(t):
            warehouse = WarehouseFactory(tenant=t)
            for i in range(5):
                product = ProductFactory(tenant=t, sku=f"{prefix}-{i}", weight_grams="12.500")
                stock_receive(tenant=t, product=product, warehouse=warehouse, quantity=3)
            purchase_plan_refresh(tenant=t)
    return {
        "a": api_key_create(tenant=tenant, name="bi")[1],
        "b": api_key_create(tenant=other_tenant, name="bi")[1],
    }


@pytest.mark.parametrize("name", ENDPOINTS)
def test_lists_only_own_rows_in_fixed_queries(client, keys, name, django_assert_max_num_queries):
    with django_assert_max_num_queries(8):
        response = client.get(reverse(f"api:inventory:{name}"),
                              HTTP_AUTHORIZATION=f"Api-Key {keys['b']}")
    assert response.status_code == 200
    skus = {row["sku"] for row in response.json()["results"]}
    assert skus and all(sku.startswith("B-") for sku in skus)


def test_product_detail_404_for_other_tenant(client, keys, tenant):
    with tenant_scope(tenant):
        from inventory.models import Product

        product = Product.objects.get(sku="A-1")
    url = reverse("api:inventory:product_detail", kwargs={"product_id": product.pk})
    assert client.get(url, HTTP_AUTHORIZATION=f"Api-Key {keys['b']}").status_code == 404
    response = client.get(url, HTTP_AUTHORIZATION=f"Api-Key {keys['a']}")
    assert response.status_code == 200
    assert response.json()["weight_grams"] == "12.500"


def test_filters(client, keys):
    response = client.get(reverse("api:inventory:product_list"), {"sku": "A-2"},
                          HTTP_AUTHORIZATION=f"Api-Key {keys['a']}")
    assert [row["sku"] for row in response.json()["results"]] == ["A-2"]
    response = client.get(reverse("api:inventory:movement_list"), {"kind": "receipt"},
                          HTTP_AUTHORIZATION=f"Api-Key {keys['a']}")
    assert len(response.json()["results"]) == 5


def test_plan_decimals_are_strings(client, keys):
    response = client.get(reverse("api:inventory:purchase_plan_list"),
                          HTTP_AUTHORIZATION=f"Api-Key {keys['a']}")
    assert isinstance(response.json()["results"][0]["weekly_demand"], str)
