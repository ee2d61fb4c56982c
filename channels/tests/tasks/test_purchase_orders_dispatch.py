"""The per-minute dispatcher: a sync per account whose poll interval is
due, per kind; accounts that need re-authorization are left alone."""

import datetime
from unittest import mock

import pytest
from django.utils import timezone

from acorn.tenancy import tenant_scope
from channels.models import AccountStatus, SyncKind, SyncRun, SyncStatus
from channels.tasks import purchase_orders as tasks
from channels.tests.factories import AmazonVendorAccountFactory

pytestmark = pytest.mark.django_db


def _ran(tenant, account, kind, minutes_ago):
    SyncRun.objects.create(
        tenant=tenant, account=account, kind=kind, status=SyncStatus.SUCCEEDED,
        started_at=timezone.now() - datetime.timedelta(minutes=minutes_ago))


def test_dispatch_enqueues_only_due_active_accounts(tenant_a, tenant_b):
    """Due = never synced or last run at least poll_interval ago."""
    # Given accounts of two tenants in every situation
    with tenant_scope(tenant_a):
        due = AmazonVendorAccountFactory(tenant=tenant_a, poll_interval_minutes=15)
        _ran(tenant_a, due, SyncKind.PURCHASE_ORDERS, minutes_ago=16)
        _ran(tenant_a, due, SyncKind.PURCHASE_ORDER_STATUS, minutes_ago=16)
        recent = AmazonVendorAccountFactory(tenant=tenant_a, poll_interval_minutes=15)
        _ran(tenant_a, recent, SyncKind.PURCHASE_ORDERS, minutes_ago=5)
        slow = AmazonVendorAccountFactory(tenant=tenant_a, poll_interval_minutes=120)
        _ran(tenant_a, slow, SyncKind.PURCHASE_ORDERS, minutes_ago=60)
        _ran(tenant_a, slow, SyncKind.PURCHASE_ORDER_STATUS, minutes_ago=60)
        AmazonVendorAccountFactory(tenant=tenant_a, status=AccountStatus.REAUTH_NEEDED)
        AmazonVendorAccountFactory(tenant=tenant_a, status=AccountStatus.DISABLED)
    with tenant_scope(tenant_b):
        never = AmazonVendorAccountFactory(tenant=tenant_b)
    # When the dispatcher runs
    with mock.patch.object(tasks.purchase_orders_sync_task, "delay") as orders, \
            mock.patch.object(tasks.purchase_order_statuses_sync_task, "delay") as statuses:
        enqueued = tasks.purchase_orders_sync_dispatch_task()
    # Then only due, active accounts are synced, each with its own tenant
    synced = {(c.kwargs["tenant_id"], c.kwargs["account_id"]) for c in orders.call_args_list}
    assert synced == {(tenant_a.pk, due.pk), (tenant_b.pk, never.pk)}
    # And the status sync keeps its own clock: "recent" never ran it
    status_synced = {(c.kwargs["tenant_id"], c.kwargs["account_id"])
                     for c in statuses.call_args_list}
    assert status_synced == {(tenant_a.pk, due.pk), (tenant_a.pk, recent.pk),
                             (tenant_b.pk, never.pk)}
    assert enqueued == len(synced) + len(status_synced)
    assert orders.call_count == len(synced)


def test_dispatch_skips_inactive_tenants(tenant_a):
    """A deactivated tenant's accounts are not synced."""
    with tenant_scope(tenant_a):
        AmazonVendorAccountFactory(tenant=tenant_a)
    tenant_a.is_active = False
    tenant_a.save(update_fields=["is_active"])
    with mock.patch.object(tasks.purchase_orders_sync_task, "delay") as orders, \
            mock.patch.object(tasks.purchase_order_statuses_sync_task, "delay"):
        assert tasks.purchase_orders_sync_dispatch_task() == 0
    orders.assert_not_called()
