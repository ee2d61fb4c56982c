"""The call log records the 429s the client absorbed, over real HTTP to the
sandbox, so the API health figures see throttling that retries hid."""

import pytest
from django.utils import timezone

from channels.models import ApiCallLog
from channels.selectors.api_health import api_call_stats
from channels.services.purchase_orders import purchase_orders_sync


@pytest.mark.django_db
def test_throttled_attempts_reach_the_call_log_and_the_stats(sandbox_account, scope, sandbox,
                                                              fast_retries):
    # Given Amazon answers the first two getPurchaseOrders attempts with 429
    started = timezone.now()
    sandbox.control("POST", "/_sandbox/faults", {"faults": [
        {"operation": "getPurchaseOrders", "kind": "status", "status": 429, "count": 2}]})
    # When a PO sync runs (the client retries through them)
    purchase_orders_sync(tenant=scope, account=sandbox_account, plan=False, **fast_retries)
    # Then every logged call succeeded, and the two 429s are on record as
    # extra attempts (the sync's windows may share them between calls)
    calls = list(ApiCallLog.objects.filter(operation="getPurchaseOrders"))
    assert calls and {call.status_code for call in calls} == {200}
    assert sum(call.throttled_attempts for call in calls) == 2
    assert sum(call.attempts for call in calls) == len(calls) + 2
    # And the stats count them as successes with the 429 share of attempts
    row = next(r for r in api_call_stats(tenant=scope, since=started)
               if r.operation == "getPurchaseOrders")
    assert row.success_rate == 1.0
    assert row.throttled_share == 2 / (len(calls) + 2)
