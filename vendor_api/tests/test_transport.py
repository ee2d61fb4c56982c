"""Retries, backoff, timeouts and ambiguous POSTs over real HTTP."""

import datetime
import random
import time

import pytest

from vendor_api.errors import OutcomeUnknown, ServerError, TransportError
from vendor_api.operations.orders import (
    AcknowledgementCode,
    AcknowledgementItem,
    ItemAcknowledgement,
    OrderAcknowledgement,
)
from vendor_api.transport import RetryPolicy, Timeouts
from vendor_api.types import Party


def _faults(sandbox, *rules):
    sandbox.control("POST", "/_sandbox/faults", {"faults": list(rules)})


def _any_order(sandbox):
    return next(iter(sandbox.state.orders))


def _acknowledge_all(client, number):
    order = client.get_purchase_order(purchase_order_number=number)
    ack = OrderAcknowledgement(
        purchase_order_number=number, selling_party=Party(party_id="DEMO1"),
        acknowledgement_date=datetime.datetime.now(tz=datetime.UTC),
        items=tuple(
            AcknowledgementItem(
                item_sequence_number=item.item_sequence_number,
                ordered_quantity=item.ordered_quantity, net_cost=item.net_cost,
                acknowledgements=(ItemAcknowledgement(code=AcknowledgementCode.ACCEPTED,
                                                      quantity=item.ordered_quantity),),
            )
            for item in order.items
        ),
    )
    return client.submit_acknowledgement(acknowledgements=[ack])


def test_backoff_is_full_jitter_and_capped():
    """Delays are uniform in [0, min(cap, base * 2**n)]: spread out and bounded."""
    policy = RetryPolicy(base_delay_seconds=0.5, max_delay_seconds=4)
    rng = random.Random(7)
    for retry_number, ceiling in ((1, 0.5), (2, 1.0), (3, 2.0), (6, 4.0)):
        delays = [policy.backoff_seconds(retry_number=retry_number, rng=rng) for _ in range(300)]
        assert 0 <= min(delays) and max(delays) <= ceiling
        # Full jitter: delays cover the range, not one value (no lockstep retries).
        assert max(delays) - min(delays) > ceiling * 0.8


def test_server_errors_are_retried_then_recovered(client, sandbox, call_log):
    # Given two 503s, a 500 and then a healthy Amazon
    _faults(sandbox, {"operation": "getPurchaseOrder", "kind": "status", "status": 503,
                      "count": 2},
            {"operation": "getPurchaseOrder", "kind": "status", "status": 500, "count": 1})
    # When a GET is made / Then it succeeds on the 4th attempt
    client.get_purchase_order(purchase_order_number=_any_order(sandbox))
    assert call_log[-1].attempts == 4
    assert call_log[-1].status == 200


def test_retries_are_bounded_and_the_error_is_typed(client, sandbox, call_log):
    # Given an Amazon that always answers 500
    _faults(sandbox, {"operation": "getPurchaseOrder", "kind": "status", "status": 500})
    started = time.monotonic()
    # When a GET is made
    with pytest.raises(ServerError) as caught:
        client.get_purchase_order(purchase_order_number=_any_order(sandbox))
    # Then it gives up after max_attempts with status, code and request id
    assert caught.value.status == 500
    assert caught.value.error_code == "InternalFailure"
    assert caught.value.request_id
    assert "failed with 500: InternalFailure" in str(caught.value)
    assert call_log[-1].attempts == 4
    assert call_log[-1].error_code == "InternalFailure"
    assert time.monotonic() - started < 3


def test_throttled_calls_are_retried(sandbox, shared_cache, limiter, call_log):
    # Given an Amazon bucket of 2 requests per second, burst 1 (tighter than our plan)
    sandbox.control("POST", "/_sandbox/scenario",
                    {"rate_limits": {"getPurchaseOrder": {"rate": 2, "burst": 1}}})
    client = sandbox.client(
        cache=shared_cache, limiter=limiter, call_hook=call_log.append,
        retry_policy=RetryPolicy(max_attempts=8, base_delay_seconds=0.2, max_delay_seconds=1),
    )
    client.get_purchase_order(purchase_order_number=_any_order(sandbox))
    # When the next call comes too soon / Then it is retried until it passes
    client.get_purchase_order(purchase_order_number=_any_order(sandbox))
    assert call_log[-1].throttled_attempts >= 1
    assert call_log[-1].status == 200


def test_truncated_body_and_reset_are_retried_for_get(client, sandbox, call_log):
    # Given one truncated JSON body and one connection reset
    _faults(sandbox, {"operation": "getPurchaseOrder", "kind": "truncate", "count": 1},
            {"operation": "getPurchaseOrder", "kind": "reset", "count": 1})
    # When a GET is made / Then both faults are absorbed
    order = client.get_purchase_order(purchase_order_number=_any_order(sandbox))
    assert order.items
    assert call_log[-1].attempts == 3


def test_timeouts_bound_every_call(sandbox, shared_cache, limiter):
    # Given an Amazon that hangs 5 s and a client with a 0.5 s read timeout
    _faults(sandbox, {"operation": "getPurchaseOrder", "kind": "latency", "seconds": 5})
    client = sandbox.client(
        cache=shared_cache, limiter=limiter, timeouts=Timeouts(connect_seconds=1, read_seconds=0.5),
        retry_policy=RetryPolicy(max_attempts=2, base_delay_seconds=0.05,
                                 total_budget_seconds=3),
    )
    started = time.monotonic()
    # When a GET is made / Then it fails with a typed error within the budget
    with pytest.raises(TransportError, match="got no complete answer: ReadTimeout"):
        client.get_purchase_order(purchase_order_number=_any_order(sandbox))
    assert time.monotonic() - started < 3


def test_ambiguous_post_is_reported_not_resubmitted(sandbox, shared_cache, limiter, call_log):
    # Given Amazon processes the acknowledgement but the answer never arrives
    client = sandbox.client(
        cache=shared_cache, limiter=limiter, call_hook=call_log.append,
        timeouts=Timeouts(connect_seconds=1, read_seconds=0.5),
    )
    _faults(sandbox, {"operation": "submitAcknowledgement", "kind": "hang", "seconds": 2,
                      "count": 1})
    # When the POST is made
    with pytest.raises(OutcomeUnknown, match="reconcile before submitting again"):
        _acknowledge_all(client, _any_order(sandbox))
    # Then it was sent exactly once and the call log says so
    submissions = sandbox.control("GET", "/_sandbox/submissions?kind=acknowledgement")
    assert len(submissions["submissions"]) == 1
    assert call_log[-1].attempts == 1
    assert call_log[-1].error_code == "OutcomeUnknown"


def test_reset_after_post_processing_is_outcome_unknown(client, sandbox):
    # Given Amazon processes the POST and then the connection resets
    _faults(sandbox, {"operation": "submitAcknowledgement", "kind": "reset_after", "count": 1})
    # When / Then: outcome unknown, one submission on Amazon's side
    with pytest.raises(OutcomeUnknown):
        _acknowledge_all(client, _any_order(sandbox))
    assert len(sandbox.control("GET", "/_sandbox/submissions")["submissions"]) == 1


def test_post_is_retried_on_503_because_amazon_did_not_process_it(client, sandbox, call_log):
    _faults(sandbox, {"operation": "submitAcknowledgement", "kind": "status", "status": 503,
                      "count": 1})
    receipt = _acknowledge_all(client, _any_order(sandbox))
    assert receipt.transaction_id
    assert call_log[-1].attempts == 2
    assert len(sandbox.control("GET", "/_sandbox/submissions")["submissions"]) == 1
