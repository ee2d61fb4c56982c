"""getPurchaseOrders' indexed fast path answers exactly what the general path does."""

import base64
import datetime
import json

from vendor_api.sandbox import vendor
from vendor_api.sandbox.server import Router, SandboxRequest
from vendor_api.sandbox.state import SandboxState, format_time


def _get(router, grant, query):
    request = SandboxRequest(
        method="GET",
        path="/vendor/orders/v1/purchaseOrders",
        query={k: [v] for k, v in query.items()},
        headers={},
        body=b"",
    )
    request.router = router
    return vendor.get_purchase_orders(request, grant, router.state)


def _general(router, grant, query):
    # sortOrder=ASC is the default order, but leaves the fast path.
    return _get(router, grant, {**query, "sortOrder": "ASC"})


def _token_key(response):
    token = response.body["payload"].get("pagination", {}).get("nextToken")
    return json.loads(base64.urlsafe_b64decode(token))["k"] if token else None


def test_created_range_pages_match_the_general_path_byte_for_byte():
    now = datetime.datetime(2024, 6, 1, tzinfo=datetime.UTC)
    state = SandboxState(purchase_orders=250, now=now)
    router = Router(state=state)
    grant = next(iter(state.grants.values()))
    queries = [
        {
            "createdAfter": format_time(now - datetime.timedelta(days=6)),
            "createdBefore": format_time(now),
            "limit": "7",
        },
        {
            "createdAfter": format_time(now - datetime.timedelta(days=6)),
            "createdBefore": format_time(now - datetime.timedelta(days=2)),
            "limit": "100",
            "purchaseOrderState": "New",
        },
        {
            "createdAfter": format_time(now - datetime.timedelta(days=3)),
            "createdBefore": format_time(now),
            "limit": "10",
            "includeDetails": "false",
        },
    ]
    for query in queries:
        fast_pages = general_pages = 0
        fast_token = general_token = None
        while True:
            fast = _get(
                router, grant, {**query, **({"nextToken": fast_token} if fast_token else {})}
            )
            general = _general(
                router, grant, {**query, **({"nextToken": general_token} if general_token else {})}
            )
            assert fast.status == general.status == 200
            assert fast.body["payload"]["orders"] == general.body["payload"]["orders"]
            # The tokens resume after the same PO (their fingerprints differ:
            # sortOrder is part of the request parameters).
            assert _token_key(fast) == _token_key(general)
            # The pre-encoded bytes are the body's encoding.
            assert fast.encoded() == json.dumps(fast.body, separators=(",", ":")).encode()
            fast_pages += 1
            general_pages += 1
            token = fast.body["payload"].get("pagination", {}).get("nextToken")
            fast_token = token
            general_token = general.body["payload"].get("pagination", {}).get("nextToken")
            if not token:
                assert not general_token
                break
        assert fast_pages == general_pages
        assert fast_pages > 1 or "purchaseOrderState" in query


def test_a_bad_token_is_refused_on_the_fast_path():
    state = SandboxState(purchase_orders=5)
    router = Router(state=state)
    grant = next(iter(state.grants.values()))
    response = _get(
        router,
        grant,
        {
            "createdAfter": "2024-05-01T00:00:00Z",
            "createdBefore": "2024-05-05T00:00:00Z",
            "nextToken": "bm90LWpzb24=",
        },
    )
    assert response.status == 400


def test_new_orders_keep_arriving_with_a_fresh_clock(sandbox, client):
    """With the demo's ticker on, Amazon places new POs created just now,
    and the client finds them over HTTP with createdAfter."""
    import datetime
    import time

    from django.utils import timezone

    # Given the sandbox's POs so far, and the moment the ticker starts
    before = set(sandbox.state.orders)
    started = timezone.now() - datetime.timedelta(seconds=1)
    stop = sandbox.state.new_orders_start(vendor_code="DEMO1", every_seconds=0.2)
    try:
        # When a little more than two ticks pass
        time.sleep(0.7)
    finally:
        stop.set()
    # Then at least two new POs exist, created within the last minutes
    new_numbers = set(sandbox.state.orders) - before
    assert len(new_numbers) >= 2
    found = {
        order.purchase_order_number
        for order in client.iter_purchase_orders(
            created_after=started - datetime.timedelta(minutes=2)
        )
    }
    assert new_numbers <= found
