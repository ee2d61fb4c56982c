"""Accounts (secrets write-only, encrypted, redacted), test connection,
role checks, mapping import, and query counts of the list pages/APIs."""

import datetime

import pytest
import tablib
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from acorn.models import AuditEntry
from acorn.tenancy import tenant_scope
from channels.models import AmazonVendorAccount, ChannelException, ExceptionKind, SkuMapping
from channels.services.accounts import account_secret_expiry_check
from channels.services.mappings import mapping_import
from channels.tests.factories import (
    AmazonVendorAccountFactory,
    ChannelExceptionFactory,
    PurchaseOrderFactory,
    PurchaseOrderLineFactory,
    SkuMappingFactory,
)
from inventory.tests.factories import ProductFactory

SECRET = "very-secret-client-secret-123"
TOKEN = "Atzr|very-secret-refresh-token"


def _account_post(**overrides):
    data = {
        "name": "US vendor", "region": "NA", "marketplace_id": "ATVPDKIKX0DER",
        "vendor_codes": "ABCD1", "ship_from": "", "environment": "local_sandbox",
        "endpoint_override": "http://127.0.0.1:9", "lwa_client_id": "amzn1.app.x",
        "lwa_client_secret": SECRET, "lwa_refresh_token": TOKEN,
        "lwa_client_secret_expires_on": "", "poll_interval_minutes": "15",
        "initial_lookback_days": "7", "ack_auto_send": "never",
    }
    data.update(overrides)
    return data


@pytest.mark.django_db
def test_account_secrets_are_encrypted_write_only_and_redacted(tenant_a, member_client):
    """Secrets: ciphertext in the table, never in HTML, [redacted] in audit."""
    client = member_client(tenant_a, "admin")
    # When an admin creates an account
    response = client.post(reverse("channels:account_create", kwargs={"tenant_slug": "alpha"}),
                           _account_post())
    assert response.status_code == 302
    # Then raw SQL shows no plaintext secret
    with tenant_scope(tenant_a), connection.cursor() as cursor:
        cursor.execute("SELECT lwa_client_secret, lwa_refresh_token FROM "
                       "channels_amazonvendoraccount")
        rows = cursor.fetchall()
    assert rows and SECRET not in str(rows) and TOKEN not in str(rows)
    # And the edit page never renders the secrets back
    page = client.get(response["Location"]).content.decode()
    assert SECRET not in page and TOKEN not in page
    assert "leave blank to keep" in page
    # When the admin saves with blank secrets, the stored ones are kept
    with tenant_scope(tenant_a):
        account = AmazonVendorAccount.objects.get()
    client.post(response["Location"], _account_post(lwa_client_secret="", lwa_refresh_token="",
                                                    poll_interval_minutes="5"))
    with tenant_scope(tenant_a):
        account.refresh_from_db()
        assert account.lwa_client_secret == SECRET
        assert account.poll_interval_minutes == 5
        audit = list(AuditEntry.objects.values_list("before", "after"))
    # And no audit entry holds a secret
    assert SECRET not in str(audit) and TOKEN not in str(audit)
    assert "[redacted]" in str(audit)


@pytest.mark.django_db
def test_test_connection_shows_the_request_id(tenant_a, member_client, sandbox, grant):
    """The connection test calls getPurchaseOrders and shows its request id."""
    with tenant_scope(tenant_a):
        account = AmazonVendorAccountFactory(
            tenant=tenant_a, endpoint_override=sandbox.base_url,
            lwa_client_id=grant["client_id"], lwa_client_secret=grant["client_secret"],
            lwa_refresh_token=grant["refresh_token"],
        )
    client = member_client(tenant_a, "admin")
    url = reverse("channels:account_test", kwargs={"tenant_slug": "alpha",
                                                   "account_id": account.pk})
    response = client.post(url, follow=True)
    with tenant_scope(tenant_a):
        account.refresh_from_db()
        request_id = account.api_calls.get().request_id
    assert account.last_connection_test_ok is True
    assert request_id
    assert f"Connection OK (request id {request_id})." in response.content.decode()


@pytest.mark.django_db
def test_secret_expiry_reminder(tenant_a):
    """A secret due within 30 days (day 150 of 180) opens one SECRET_EXPIRING exception."""
    today = datetime.date(2026, 11, 1)
    with tenant_scope(tenant_a):
        AmazonVendorAccountFactory(tenant=tenant_a, name="Soon",
                                   lwa_client_secret_expires_on=today + datetime.timedelta(10))
        AmazonVendorAccountFactory(tenant=tenant_a, name="Later",
                                   lwa_client_secret_expires_on=today + datetime.timedelta(60))
        # When the daily check runs twice
        assert account_secret_expiry_check(tenant=tenant_a, today=today) == 1
        assert account_secret_expiry_check(tenant=tenant_a, today=today) == 0
        exception = ChannelException.objects.get(kind=ExceptionKind.SECRET_EXPIRING)
    assert ("The LWA client secret of Soon must be rotated by 2026-11-11 (10 days)"
            in exception.message)


@pytest.mark.django_db
@pytest.mark.parametrize("url_name", ["channels:account_list", "channels:mapping_list"])
def test_accounts_and_mappings_are_admin_only(tenant_a, member_client, url_name):
    client = member_client(tenant_a, "operations")
    assert client.get(reverse(url_name, kwargs={"tenant_slug": "alpha"})).status_code == 403


@pytest.mark.django_db
def test_viewer_cannot_resolve_exceptions(tenant_a, member_client):
    with tenant_scope(tenant_a):
        exception = ChannelExceptionFactory(tenant=tenant_a)
    client = member_client(tenant_a, "viewer")
    url = reverse("channels:exception_list", kwargs={"tenant_slug": "alpha"})
    assert client.post(url, {"exception_id": exception.pk}).status_code == 403
    assert client.get(url).status_code == 403


def _dataset(rows):
    dataset = tablib.Dataset(headers=["account", "asin", "vendor_product_id", "sku",
                                      "order_unit", "units_per_order_unit"])
    for row in rows:
        dataset.append(row)
    return dataset


@pytest.mark.django_db
def test_mapping_import_errors_change_nothing_and_reimport_is_a_noop(tenant_a):
    with tenant_scope(tenant_a):
        AmazonVendorAccountFactory(tenant=tenant_a, name="US")
        ProductFactory(tenant=tenant_a, sku="A-1")
        ProductFactory(tenant=tenant_a, sku="B-1")
        # Given a file with a duplicate ASIN and an unknown product
        bad = _dataset([["US", "B0AAAA0001", "V1", "A-1", "Eaches", 1],
                        ["US", "B0AAAA0001", "V2", "B-1", "Eaches", 1],
                        ["US", "B0AAAA0003", "", "NOPE", "Eaches", 1],
                        ["EU", "B0AAAA0004", "", "A-1", "Eaches", 1]])
        # When it is applied
        result = mapping_import(tenant=tenant_a, dataset=bad, dry_run=False)
        # Then each bad row says why and nothing is written
        errors = {row.line: row.errors for row in result.rows if row.errors}
        assert errors[3] == {"asin": ["ASIN B0AAAA0001 appears twice for US."]}
        assert errors[4] == {"sku": ["Unknown product NOPE."]}
        assert errors[5] == {"account": ["Unknown account EU."]}
        assert not result.applied and SkuMapping.objects.count() == 0
        # When a good file is applied, then re-imported
        good = _dataset([["US", "B0AAAA0001", "V1", "A-1", "Cases", 6],
                         ["US", "B0AAAA0002", "", "B-1", "Eaches", 1]])
        assert mapping_import(tenant=tenant_a, dataset=good, dry_run=False).applied
        again = mapping_import(tenant=tenant_a, dataset=good, dry_run=False)
        # Then the second import finds every row unchanged
        assert [row.action for row in again.rows] == ["unchanged", "unchanged"]
        assert SkuMapping.objects.get(asin="B0AAAA0001").units_per_order_unit == 6


@pytest.mark.django_db
def test_list_pages_and_apis_have_constant_query_counts(tenant_a, member_client,
                                                        api_client_for):
    """Ten times the rows costs no extra queries."""
    def seed(count):
        with tenant_scope(tenant_a):
            account = AmazonVendorAccountFactory(tenant=tenant_a)
            for _ in range(count):
                po = PurchaseOrderFactory(tenant=tenant_a, account=account)
                line = PurchaseOrderLineFactory(tenant=tenant_a, purchase_order=po,
                                                item_sequence_number="1")
                SkuMappingFactory(tenant=tenant_a, account=account, asin=line.asin)
                ChannelExceptionFactory(tenant=tenant_a, account=account, purchase_order=po)

    client = member_client(tenant_a, "admin")
    api = api_client_for(tenant_a)
    pages = [reverse(n, kwargs={"tenant_slug": "alpha"}) for n in (
        "channels:po_list", "channels:exception_list", "channels:mapping_list",
        "channels:account_list", "channels:sync_run_list", "channels:api_call_list")]
    apis = [reverse(n) for n in ("api:channels:po_list", "api:channels:mapping_list")]

    def counts():
        result = []
        for url in pages:
            with CaptureQueriesContext(connection) as queries:
                assert client.get(url).status_code == 200
            result.append(len(queries))
        for url in apis:
            with CaptureQueriesContext(connection) as queries:
                assert api.get(url).status_code == 200
            result.append(len(queries))
        return result

    seed(2)
    counts()  # warm up: the API key's last_used_at is touched once a minute
    small = counts()
    seed(20)
    assert counts() == small
