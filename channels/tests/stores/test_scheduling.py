"""What the per-minute dispatcher finds due."""

from datetime import timedelta

import pytest
from django.utils import timezone

from channels.models import StoreConnection
from channels.services.stores import store_bootstrap_due, store_orders_poll_due, store_reconcile_due

pytestmark = pytest.mark.django_db


def _store(scope, **fields):
    return StoreConnection.objects.create(
        tenant=scope, platform="shopify", name=f"s{StoreConnection.objects.count()}",
        shop_url="https://a.myshopify.com", credentials="{}", **fields)


def test_new_connections_get_first_contact_before_polls(scope):
    new = _store(scope)
    assert store_bootstrap_due(tenant=scope) == [new.pk]
    assert store_orders_poll_due(tenant=scope) == []
    assert store_reconcile_due(tenant=scope) == []


def test_a_poll_one_interval_ago_is_due_despite_dispatcher_jitter(scope):
    now = timezone.now()
    tested = now - timedelta(days=1)
    just_due = _store(scope, last_connection_test_at=tested, order_poll_interval_minutes=1,
                      last_order_poll_at=now - timedelta(seconds=59.8),
                      reconcile_interval_minutes=60,
                      last_reconcile_at=now - timedelta(minutes=59, seconds=59))
    not_due = _store(scope, last_connection_test_at=tested, order_poll_interval_minutes=5,
                     last_order_poll_at=now - timedelta(minutes=2),
                     reconcile_interval_minutes=60, last_reconcile_at=now - timedelta(minutes=5))
    paused = _store(scope, last_connection_test_at=tested, status="paused")
    assert store_orders_poll_due(tenant=scope, now=now) == [just_due.pk]
    assert store_reconcile_due(tenant=scope, now=now) == [just_due.pk]
    assert not_due.pk not in store_orders_poll_due(tenant=scope, now=now)
    assert paused.pk not in store_reconcile_due(tenant=scope, now=now)
