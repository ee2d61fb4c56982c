"""purchase_orders_sync against the real sandbox over HTTP."""

import datetime
import threading

import pytest
from django.db import connection
from django.utils import timezone

from acorn.tenancy import tenant_scope
from channels.models import (
    AccountStatus,
    AckStatus,
    AmazonVendorAccount,
    ApiCallLog,
    ChannelException,
    ExceptionKind,
    ExceptionStatus,
    PurchaseOrder,
    PurchaseOrderEvent,
    PurchaseOrderEventKind,
    PurchaseOrderLine,
    SyncRun,
    SyncStatus,
)
from channels.services.mappings import exception_map_and_retry
from channels.services.purchase_orders import purchase_orders_sync
from channels.tests.factories import AmazonVendorAccountFactory, SkuMappingFactory
from inventory.tests.factories import ProductFactory
from vendor_api import conformance


def _map_catalog(tenant, account, sandbox, *, skip=()):
    for item in sandbox.state.vendors["DEMO1"].catalog:
        if item.asin in skip:
            continue
        SkuMappingFactory(tenant=tenant, account=account, asin=item.asin,
                          vendor_product_id=item.vendor_sku,
                          product=ProductFactory(tenant=tenant, sku=f"P-{item.vendor_sku}"))


def _row_writes() -> int:
    """Inserted + updated + deleted rows of the channels tables so far."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_stat_clear_snapshot()")
        cursor.execute(
            "SELECT COALESCE(SUM(n_tup_ins + n_tup_upd + n_tup_del), 0) "
            "FROM pg_stat_xact_user_tables WHERE relname LIKE 'channels_%%' "
            "AND relname NOT IN ('channels_apicalllog', 'channels_syncrun', "
            "'channels_amazonvendoraccount')"
        )
        return int(cursor.fetchone()[0])


def test_sync_creates_mapped_pos_and_a_resync_writes_nothing(scope, sandbox, sandbox_account,
                                                             fast_retries):
    """New POs arrive with their lines mapped; a second sync changes no row."""
    # Given 15 POs at Amazon and every catalog ASIN mapped
    sandbox.state.generate(vendor_code="DEMO1", count=15, days=3)
    _map_catalog(scope, sandbox_account, sandbox)
    # When the account syncs
    run = purchase_orders_sync(tenant=scope, account=sandbox_account, plan=False, **fast_retries)
    # Then every PO and line is stored, mapped, and a CREATED event recorded
    assert run.status == SyncStatus.SUCCEEDED, run.error_message
    assert run.counts["created"] == 15
    assert PurchaseOrder.objects.count() == 15
    expected_lines = sum(len(po.lines) for po in sandbox.state.orders.values())
    assert PurchaseOrderLine.objects.count() == expected_lines
    assert not PurchaseOrderLine.objects.filter(product__isnull=True, ordered_quantity__gt=0)
    assert PurchaseOrderEvent.objects.filter(kind=PurchaseOrderEventKind.CREATED).count() == 15
    assert set(PurchaseOrder.objects.values_list("ack_status", flat=True)) <= {
        AckStatus.PENDING, AckStatus.NOT_NEEDED
    }
    assert run.request_id
    assert ApiCallLog.objects.filter(operation="getPurchaseOrders", status_code=200).exists()
    # When it re-reads the whole window with nothing changed at Amazon
    AmazonVendorAccount.objects.filter(pk=sandbox_account.pk).update(po_changed_high_water=None)
    writes_before = _row_writes()
    second = purchase_orders_sync(tenant=scope, account=sandbox_account, plan=False,
                                  **fast_retries)
    # Then no PO, line, event or exception row is written
    assert second.counts["unchanged"] == 15
    assert second.counts.get("created", 0) == 0
    assert _row_writes() == writes_before


def test_sandbox_payloads_conform_to_amazon_models(scope, sandbox, sandbox_account):
    """What the sync reads validates against vendorOrders.json."""
    # Given POs at Amazon
    sandbox.state.generate(vendor_code="DEMO1", count=5, days=2)
    # When the raw getPurchaseOrders answer is fetched
    with sandbox.client(credentials=sandbox.credentials) as client:
        response = client.transport.call(
            operation="getPurchaseOrders", method="GET", path="/vendor/orders/v1/purchaseOrders",
            query={"limit": "100"},
        )
    # Then it validates, and the sandbox recorded no conformance problem
    assert conformance.validate_response(
        operation_id="getPurchaseOrders", status=200, body=response.body
    ) == []
    assert len(response.body["payload"]["orders"]) == 5


def test_amazon_change_and_cancellation_become_events(scope, sandbox, sandbox_account,
                                                      fast_retries):
    """A changed quantity records CHANGED; a cancelled line records CANCELLED."""
    # Given a synced PO with at least two lines
    sandbox.state.generate(vendor_code="DEMO1", count=10, days=2)
    _map_catalog(scope, sandbox_account, sandbox)
    purchase_orders_sync(tenant=scope, account=sandbox_account, plan=False, **fast_retries)
    number = next(n for n, po in sandbox.state.orders.items() if len(po.lines) >= 2
                  and all(line.cancelled == 0 for line in po.lines))
    # When Amazon changes line 1's quantity and cancels line 2
    sandbox.control("POST", f"/_sandbox/purchase-orders/{number}/change",
                    {"lines": {"1": 3}, "cancel": ["2"]})
    later = timezone.now() + datetime.timedelta(seconds=2)
    run = purchase_orders_sync(tenant=scope, account=sandbox_account, plan=False, now=later,
                               **fast_retries)
    # Then the PO is updated with both events, once
    assert run.counts["changed"] == 1
    po = PurchaseOrder.objects.get(number=number)
    kinds = list(po.events.values_list("kind", flat=True))
    assert kinds.count(PurchaseOrderEventKind.CHANGED) == 1
    assert kinds.count(PurchaseOrderEventKind.CANCELLED) == 1
    line1, line2 = po.lines.order_by("item_sequence_number")[:2]
    assert line1.ordered_quantity == 3
    assert line2.ordered_quantity == 0
    assert line2.cancelled_quantity > 0
    # And replaying the sync records nothing twice
    purchase_orders_sync(tenant=scope, account=sandbox_account, plan=False, now=later,
                         **fast_retries)
    assert po.events.filter(kind=PurchaseOrderEventKind.CHANGED).count() == 1


def test_unmapped_lines_block_only_their_po_and_map_and_retry_unblocks(
    scope, sandbox, sandbox_account, fast_retries
):
    """One unmapped ASIN blocks the POs holding it; mapping it unblocks them."""
    # Given every ASIN mapped but one
    sandbox.state.generate(vendor_code="DEMO1", count=20, days=2)
    orders = list(sandbox.state.orders.values())
    missing = orders[0].lines[0].asin
    _map_catalog(scope, sandbox_account, sandbox, skip={missing})
    # When the account syncs
    purchase_orders_sync(tenant=scope, account=sandbox_account, plan=False, **fast_retries)
    # Then exactly the POs with that ASIN are blocked, each with an exception
    holding = {po.number for po in orders
               if any(line.asin == missing and line.open_quantity for line in po.lines)}
    blocked = set(PurchaseOrder.objects.filter(ack_status=AckStatus.BLOCKED)
                  .values_list("number", flat=True))
    assert blocked == holding
    assert PurchaseOrder.objects.exclude(number__in=holding).filter(
        has_unmapped_lines=True).count() == 0
    exceptions = ChannelException.objects.filter(kind=ExceptionKind.UNMAPPED_LINE,
                                                 status=ExceptionStatus.OPEN)
    assert exceptions.count() == len(holding)
    # When ops maps the ASIN from one exception
    product = ProductFactory(tenant=scope, sku="NEW-MAPPED")
    exception = exceptions.select_related("purchase_order").first()
    mapping, unblocked = exception_map_and_retry(tenant=scope, exception_id=exception.pk,
                                                 product=product)
    # Then that PO is unblocked and its line resolved to the product
    assert unblocked is True
    po = exception.purchase_order
    po.refresh_from_db()
    assert po.ack_status == AckStatus.PENDING
    assert po.has_unmapped_lines is False
    assert po.lines.get(asin=missing).product_id == product.pk
    assert mapping.asin == missing
    exception.refresh_from_db()
    assert exception.status == ExceptionStatus.RESOLVED


def test_revoked_grant_marks_the_account_and_stops_calling(scope, sandbox, sandbox_account,
                                                          grant, fast_retries):
    """invalid_grant: REAUTH_NEEDED + exception; later syncs make no call."""
    # Given the vendor revoked the app's authorization
    sandbox.control("POST", "/_sandbox/grants/revoke", {"refresh_token": grant["refresh_token"]})
    # When the account syncs
    run = purchase_orders_sync(tenant=scope, account=sandbox_account, plan=False,
                               **fast_retries)
    # Then the run failed, the account needs re-authorization, ops sees why
    assert run.status == SyncStatus.FAILED
    assert run.error_code == "ReauthorizationRequired"
    sandbox_account.refresh_from_db()
    assert sandbox_account.status == AccountStatus.REAUTH_NEEDED
    exception = ChannelException.objects.get(kind=ExceptionKind.REAUTH_NEEDED)
    assert "authorise the application again" in exception.message
    # And the next sync is skipped without calling Amazon
    calls = sandbox.stats().get("lwa_token_calls", 0)
    assert purchase_orders_sync(tenant=scope, account=sandbox_account, **fast_retries) is None
    assert sandbox.stats().get("lwa_token_calls", 0) == calls
    assert SyncRun.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_two_syncs_at_once_yield_one_po_and_no_duplicate_events(sandbox, grant):
    """Two workers (separate connections) syncing one account: no duplicates."""
    from acorn.services import tenant_create

    # Given one account and 30 POs at Amazon
    tenant = tenant_create(slug="concurrent", name="Concurrent")
    with tenant_scope(tenant):
        account = AmazonVendorAccountFactory(
            tenant=tenant, endpoint_override=sandbox.base_url,
            lwa_client_id=grant["client_id"], lwa_client_secret=grant["client_secret"],
            lwa_refresh_token=grant["refresh_token"],
        )
        _map_catalog(tenant, account, sandbox)
    sandbox.state.generate(vendor_code="DEMO1", count=30, days=2)
    barrier = threading.Barrier(2)
    errors = []

    def worker():
        try:
            barrier.wait()
            with tenant_scope(tenant, atomic=False):
                purchase_orders_sync(tenant=tenant, account=account, plan=False)
        except Exception as error:  # noqa: BLE001 - reported below
            errors.append(error)
        finally:
            connection.close()

    # When two syncs run at the same moment
    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    # Then both finish, with one PO per number and one CREATED event each
    assert errors == []
    with tenant_scope(tenant):
        assert PurchaseOrder.objects.count() == 30
        assert PurchaseOrderEvent.objects.filter(
            kind=PurchaseOrderEventKind.CREATED).count() == 30
        assert SyncRun.objects.filter(status=SyncStatus.SUCCEEDED).count() == 2
