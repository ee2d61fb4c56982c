"""The demo's seeded POs include some with running 24-hour clocks
(issue 8): a fresh demo sandbox, synced, has POs whose acknowledgement
deadline is still ahead, besides the 30 days of history."""

import datetime

import pytest
from django.utils import timezone

from channels.models import PurchaseOrder
from channels.services.purchase_orders import purchase_orders_sync
from vendor_api.sandbox.state import DEMO_PURCHASE_ORDERS, DEMO_VENDOR_CODE


@pytest.mark.django_db
def test_a_fresh_demo_sandbox_seeds_pos_whose_deadlines_are_ahead(sandbox, grant, sandbox_account):
    # Given the sandbox seeded as `manage.py sandbox` and `make demo` seed it
    sandbox.state.reset(purchase_orders=DEMO_PURCHASE_ORDERS)
    sandbox.state.add_app(client_id=grant["client_id"], client_secret=grant["client_secret"],
                          refresh_token=grant["refresh_token"], vendor_codes=(DEMO_VENDOR_CODE,))
    orders = list(sandbox.state.orders.values())
    assert len(orders) == DEMO_PURCHASE_ORDERS
    now = timezone.now()
    assert any(o.created < now - datetime.timedelta(days=7) for o in orders)
    # When the demo account syncs them
    run = purchase_orders_sync(tenant=sandbox_account.tenant, account=sandbox_account)
    assert run is not None and run.status == "succeeded", run and run.error_code
    # Then some acknowledgement deadlines are still ahead (a running clock)
    deadlines = list(PurchaseOrder.objects.filter(account=sandbox_account)
                     .values_list("ack_deadline_at", flat=True))
    ahead = [d for d in deadlines if d > now]
    assert len(ahead) >= DEMO_PURCHASE_ORDERS // 10
    assert all(d <= now + datetime.timedelta(hours=24) for d in ahead)
    # And the older ones in the first sync's window are history, as before
    assert len(deadlines) > len(ahead)
    assert {o.vendor_code for o in orders} == {DEMO_VENDOR_CODE}
