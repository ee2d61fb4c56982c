"""Store connections from the dashboard: secrets write-only and encrypted,
the endpoint rule, a moved store needs its secrets again, audit, and the
query counts of the list pages and APIs."""

import pytest
from django.db import connection as db
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from acorn.exceptions import ApplicationError
from acorn.models import AuditEntry
from acorn.tenancy import tenant_scope
from channels.models import (
    Listing,
    ListingMatch,
    StoreConnection,
    StoreOrder,
    StoreOrderLine,
    StoreSyncRun,
)
from channels.services.stores import connection_update, store_url_problem

TOKEN = "shpat_very-secret-token-123"


def _post(**overrides):
    data = {"platform": "shopify", "name": "EU shop", "shop_url": "https://acme.myshopify.com",
            "api_version": "", "channel_name": "", "order_poll_interval_minutes": "5",
            "reconcile_interval_minutes": "60", "status": "active", "access_token": TOKEN}
    data.update(overrides)
    return data


@pytest.mark.django_db
def test_store_secrets_are_encrypted_write_only_and_audited(tenant_a, member_client):
    client = member_client(tenant_a, "admin")
    response = client.post(reverse("channels:store_create", kwargs={"tenant_slug": "alpha"}),
                           _post())
    assert response.status_code == 302, response.content.decode()[:2000]
    with tenant_scope(tenant_a), db.cursor() as cursor:
        cursor.execute("SELECT credentials FROM channels_storeconnection")
        rows = cursor.fetchall()
    assert rows and TOKEN not in str(rows)
    page = client.get(response["Location"]).content.decode()
    assert TOKEN not in page and "leave blank to keep" in page
    # Saving with a blank secret keeps it
    client.post(response["Location"], _post(access_token="", order_poll_interval_minutes="7"))
    with tenant_scope(tenant_a):
        store = StoreConnection.objects.get()
        assert store.order_poll_interval_minutes == 7
        assert '"access_token": "shpat_very-secret-token-123"' in store.credentials
        audit = list(AuditEntry.objects.values_list("before", "after"))
    assert audit and TOKEN not in str(audit)


@pytest.mark.django_db
def test_moving_a_store_requires_the_secrets_again(tenant_a, member_client):
    client = member_client(tenant_a, "admin")
    response = client.post(reverse("channels:store_create", kwargs={"tenant_slug": "alpha"}),
                           _post())
    edit = response["Location"]
    page = client.post(edit, _post(shop_url="https://other.myshopify.com", access_token=""))
    assert page.status_code == 200
    assert "needs them all again" in page.content.decode()
    with tenant_scope(tenant_a):
        store = StoreConnection.objects.get()
        assert store.shop_url == "https://acme.myshopify.com"
        with pytest.raises(ApplicationError):
            connection_update(tenant=tenant_a, connection_id=store.pk,
                              data={"shop_url": "https://other.myshopify.com"}, secrets={})
        connection_update(tenant=tenant_a, connection_id=store.pk,
                          data={"shop_url": "https://other.myshopify.com"},
                          secrets={"access_token": "shpat_new"})
        store.refresh_from_db()
        assert store.shop_url == "https://other.myshopify.com"


def test_endpoint_rule(settings):
    settings.ACORN_STORE_ENDPOINT_ALLOWLIST = []
    assert store_url_problem(platform="shopify", shop_url="https://a.myshopify.com") is None
    assert store_url_problem(platform="shopify", shop_url="https://evil.example.com")
    assert store_url_problem(platform="shopify", shop_url="http://a.myshopify.com")
    assert store_url_problem(platform="bigcommerce", shop_url="https://api.bigcommerce.com") \
        is None
    assert store_url_problem(platform="bigcommerce", shop_url="https://a.myshopify.com")
    assert store_url_problem(platform="magento", shop_url="https://shop.example.de") is None
    assert store_url_problem(platform="magento", shop_url="https://127.0.0.1")
    assert store_url_problem(platform="magento", shop_url="https://localhost")
    assert store_url_problem(platform="shopify", shop_url="http://127.0.0.1:8001/")
    settings.ACORN_STORE_ENDPOINT_ALLOWLIST = ["http://127.0.0.1:*"]
    assert store_url_problem(platform="shopify", shop_url="http://127.0.0.1:8001/") is None


@pytest.mark.django_db
def test_refused_endpoint_is_a_form_error(tenant_a, member_client, settings):
    settings.ACORN_STORE_ENDPOINT_ALLOWLIST = []
    client = member_client(tenant_a, "admin")
    page = client.post(reverse("channels:store_create", kwargs={"tenant_slug": "alpha"}),
                       _post(shop_url="https://evil.example.com"))
    assert page.status_code == 200
    assert "ACORN_STORE_ENDPOINT_ALLOWLIST" in page.content.decode()
    with tenant_scope(tenant_a):
        assert not StoreConnection.objects.exists()


@pytest.mark.django_db
def test_store_pages_are_for_admins(tenant_a, member_client):
    client = member_client(tenant_a, "viewer")
    assert client.get(reverse("channels:store_list", kwargs={"tenant_slug": "alpha"})) \
        .status_code == 403
    assert client.get(reverse("channels:store_order_list", kwargs={"tenant_slug": "alpha"})) \
        .status_code == 200


@pytest.mark.django_db
def test_store_list_pages_and_apis_have_constant_query_counts(tenant_a, member_client,
                                                              api_client_for):
    from inventory.tests.factories import ProductFactory

    def seed(count):
        with tenant_scope(tenant_a):
            n = StoreConnection.objects.count()
            store = StoreConnection.objects.create(
                tenant=tenant_a, platform="shopify", name=f"store {n}",
                shop_url="https://a.myshopify.com", credentials="{}")
            for i in range(count):
                product = ProductFactory(tenant=tenant_a)
                listing = Listing.objects.create(
                    tenant=tenant_a, connection=store, item_id=f"i{n}-{i}", sku=product.sku,
                    product=product, match_state=ListingMatch.AUTO)
                order = StoreOrder.objects.create(
                    tenant=tenant_a, connection=store, platform_order_id=f"o{n}-{i}",
                    placed_at=timezone.now(), platform_updated_at=timezone.now())
                for line in range(2):
                    StoreOrderLine.objects.create(tenant=tenant_a, order=order,
                                                  line_id=str(line), sku=product.sku,
                                                  listing=listing, product=product, quantity=1)
                StoreSyncRun.objects.create(tenant=tenant_a, connection=store, kind="push",
                                            started_at=timezone.now())
            return store

    client = member_client(tenant_a, "admin")
    api = api_client_for(tenant_a)
    store = seed(2)
    pages = [reverse(n, kwargs={"tenant_slug": "alpha"}) for n in (
        "channels:store_list", "channels:store_listing_list", "channels:store_order_list")]
    pages.append(reverse("channels:store_sync_log",
                         kwargs={"tenant_slug": "alpha", "connection_id": store.pk}))
    apis = [reverse(n) for n in ("api:channels:store_order_list", "api:channels:listing_list")]

    def counts():
        result = []
        for url in pages:
            with CaptureQueriesContext(db) as queries:
                assert client.get(url).status_code == 200
            result.append(len(queries))
        for url in apis:
            with CaptureQueriesContext(db) as queries:
                response = api.get(url)
                assert response.status_code == 200, response.content
            result.append(len(queries))
        return result

    counts()
    small = counts()
    seed(15)
    assert counts() == small
