"""Every failure mode of a submission ends in a named, visible state and
never resends blindly: over real HTTP to the sandbox's fault injection,
counting what actually reached Amazon (the sandbox's own state)."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from channels.models import (
    AckStatus,
    ChannelException,
    DocumentType,
    ExceptionKind,
    ExceptionStatus,
    PurchaseOrder,
    ShipmentStatus,
    Submission,
    SubmissionStatus,
)
from channels.services import submissions as submission_services
from channels.services.acknowledgements import acknowledgement_send
from channels.services.shipments import shipment_ship
from channels.services.submissions import (
    MAX_RECONCILE_ATTEMPTS,
    MAX_SEND_ATTEMPTS,
    SEND_RETRY_DELAYS,
    submission_reconcile,
    submission_retry,
    submissions_poll,
)
from channels.tests.services.test_shipment_asn import _asn_submissions, _asns_at_amazon, _draft
from channels.tests.services.test_submissions import _acks_at_amazon, _review_po

pytestmark = pytest.mark.django_db(transaction=True)

ACK = "submitAcknowledgement"


@pytest.fixture
def quick_client(monkeypatch, fast_retries):
    """The real client and sandbox, with the tests' short in-call retries
    (the client retries each POST up to 3 times instead of 5 within 60 s)."""
    from channels.services import clients

    real = clients.account_client_build

    def build(*, account, **options):
        return real(account=account, **{**fast_retries, **options})

    monkeypatch.setattr(clients, "account_client_build", build)


def _faults(sandbox, *faults):
    sandbox.control("POST", "/_sandbox/faults", {"faults": list(faults)})


def _ack_posts(sandbox) -> int:
    return sandbox.stats().get(f"calls:{ACK}", 0)


def _open(kind, submission) -> list:
    return list(ChannelException.objects.filter(kind=kind, submission=submission,
                                                status=ExceptionStatus.OPEN))


def _poll_until_quiet(live, *, start, hours):
    """Poll rounds every 10 minutes of (simulated) time for ``hours``."""
    for minutes in range(0, hours * 60, 10):
        submissions_poll(tenant=live, now=start + datetime.timedelta(minutes=minutes))


# --- 2xx without a transactionId ------------------------------------------


def test_2xx_without_transaction_id_is_reconciled_and_never_resent(
        live, live_account, sandbox, fast_retries, quick_client):
    """Amazon took the POST (202) but sent no transactionId: the document is
    looked for at Amazon and found; it is never sent a second time."""
    # Given Amazon answers the acknowledgement POST 202 with an empty payload
    po = _review_po(live, live_account, sandbox, fast_retries)
    _faults(sandbox, {"operation": ACK, "kind": "no_transaction_id", "count": 1})
    # When it is sent
    submission = acknowledgement_send(tenant=live, purchase_order=po)
    submission.refresh_from_db()
    # Then its outcome is in doubt, alerted, with Amazon's answer explained
    assert submission.status == SubmissionStatus.OUTCOME_UNKNOWN
    assert "transactionId" in submission.status_detail
    assert submission.sent_at is not None
    (alert,) = _open(ExceptionKind.OUTCOME_UNKNOWN, submission)
    assert "never resent automatically" in alert.message
    # When the poll runs for hours
    _poll_until_quiet(live, start=timezone.now(), hours=2)
    # Then reconciliation found it at Amazon: a success, sent once
    submission.refresh_from_db()
    assert submission.status == SubmissionStatus.SUCCESS
    assert submission.send_attempts == 1
    assert len(_acks_at_amazon(sandbox)) == 1
    assert _ack_posts(sandbox) == 1
    po.refresh_from_db()
    assert po.ack_status == AckStatus.ACCEPTED
    assert not _open(ExceptionKind.OUTCOME_UNKNOWN, submission)


def test_2xx_without_transaction_id_not_yet_visible_is_never_resent(
        live, live_account, sandbox, fast_retries, quick_client):
    """Amazon took the POST but the document never shows (its processing
    hangs): checks stop at the cap, ops are told, nothing is resent."""
    # Given Amazon's processing hangs and its 202 carries no transactionId
    sandbox.control("POST", "/_sandbox/scenario", {"transactions_stuck": True})
    po = _review_po(live, live_account, sandbox, fast_retries)
    _faults(sandbox, {"operation": ACK, "kind": "no_transaction_id", "count": 1})
    submission = acknowledgement_send(tenant=live, purchase_order=po)
    # When the poll runs for 6 hours
    _poll_until_quiet(live, start=timezone.now(), hours=6)
    # Then the checks stopped at the cap, still in doubt, alerted
    submission.refresh_from_db()
    assert submission.status == SubmissionStatus.OUTCOME_UNKNOWN
    assert submission.reconcile_attempts == MAX_RECONCILE_ATTEMPTS
    assert submission.next_attempt_at is None
    assert "automatic checks stopped" in submission.status_detail
    assert sandbox.stats()["calls:getPurchaseOrdersStatus"] == MAX_RECONCILE_ATTEMPTS
    assert _open(ExceptionKind.OUTCOME_UNKNOWN, submission)
    # And Amazon received exactly one acknowledgement
    assert submission.send_attempts == 1
    assert _ack_posts(sandbox) == 1
    assert len(_acks_at_amazon(sandbox)) == 1


# --- gateway errors on a POST: after and before the write ------------------


@pytest.mark.parametrize("status", [502, 504])
@pytest.mark.parametrize("kind, applied", [("status_after", True), ("status", False)])
def test_gateway_error_on_the_acknowledgement_post_sends_exactly_one(
        live, live_account, sandbox, fast_retries, quick_client, status, kind, applied):
    """502/504 on the POST: Amazon may have processed it. Reconciled, then
    resent only when Amazon has no trace; one acknowledgement either way."""
    # Given a gateway error on the acknowledgement POST, after Amazon
    # applied it (status_after) or before (status)
    po = _review_po(live, live_account, sandbox, fast_retries)
    _faults(sandbox, {"operation": ACK, "kind": kind, "status": status, "count": 1})
    # When it is sent
    submission = acknowledgement_send(tenant=live, purchase_order=po)
    submission.refresh_from_db()
    # Then the outcome is unknown: not retried by the client, not resent
    assert submission.status == SubmissionStatus.OUTCOME_UNKNOWN
    assert _ack_posts(sandbox) == 1
    assert len(_acks_at_amazon(sandbox)) == (1 if applied else 0)
    # When the poll rounds go on for an hour
    _poll_until_quiet(live, start=timezone.now(), hours=1)
    # Then the acknowledgement succeeded, and Amazon holds exactly one
    submission.refresh_from_db()
    assert submission.status == SubmissionStatus.SUCCESS
    assert len(_acks_at_amazon(sandbox)) == 1
    assert sandbox.state.orders[po.number].state == "Acknowledged"
    assert submission.send_attempts == (1 if applied else 2)
    assert _ack_posts(sandbox) == (1 if applied else 2)
    assert not _open(ExceptionKind.OUTCOME_UNKNOWN, submission)


@pytest.mark.parametrize("kind, applied", [("status_after", True), ("status", False)])
def test_gateway_error_on_the_asn_post_sends_exactly_one(
        live, live_account, sandbox, fast_retries, quick_client, kind, applied):
    """The same for an ASN (504), checked by GetShipmentDetails."""
    shipment = _draft(live, live_account, sandbox, fast_retries)
    _faults(sandbox, {"operation": "SubmitShipmentConfirmations", "kind": kind,
                      "status": 504, "count": 1})
    shipment_ship(tenant=live, shipment_id=shipment.pk)
    (submission,) = _asn_submissions()
    assert submission.status == SubmissionStatus.OUTCOME_UNKNOWN
    assert len(_asns_at_amazon(sandbox)) == (1 if applied else 0)
    _poll_until_quiet(live, start=timezone.now(), hours=2)
    submission.refresh_from_db()
    shipment.refresh_from_db()
    assert submission.status == SubmissionStatus.SUCCESS
    assert shipment.status == ShipmentStatus.CONFIRMED
    assert len(_asns_at_amazon(sandbox)) == 1
    assert len(sandbox.state.shipment_confirmations) == 1


# --- non-retryable answers -------------------------------------------------


@pytest.mark.parametrize("status, code", [(400, "InvalidInput"), (403, "AccessDenied"),
                                          (404, "NotFound")])
def test_refused_submission_fails_at_once_with_amazons_errors(
        live, live_account, sandbox, fast_retries, quick_client, member_client, status, code):
    """400/403/404 end the submission as failed: Amazon's errors on the
    submission page, an exception on the work queue, never sent again."""
    # Given Amazon refuses the acknowledgement POST
    po = _review_po(live, live_account, sandbox, fast_retries)
    _faults(sandbox, {"operation": ACK, "kind": "status", "status": status, "count": 1})
    # When it is sent, and the poll runs for hours after
    submission = acknowledgement_send(tenant=live, purchase_order=po)
    _poll_until_quiet(live, start=timezone.now(), hours=1)
    # Then it failed once, with Amazon's error, alerted
    submission.refresh_from_db()
    assert submission.status == SubmissionStatus.FAILURE
    assert submission.errors[0]["code"] == code
    assert submission.send_attempts == 1
    assert _ack_posts(sandbox) == 1
    assert len(_acks_at_amazon(sandbox)) == 0
    (alert,) = _open(ExceptionKind.SUBMISSION_FAILED, submission)
    assert code in alert.message
    assert PurchaseOrder.objects.get(pk=po.pk).ack_status == AckStatus.FAILED
    # And the submission page shows Amazon's error
    page = member_client(live, "operations").get(reverse(
        "channels:submission_detail", kwargs={"tenant_slug": live.slug,
                                              "submission_id": submission.pk}))
    assert page.status_code == 200
    assert f"<code>{code}</code>" in page.content.decode()


# --- retryable answers: capped backoff --------------------------------------


@pytest.mark.parametrize("status", [429, 500, 503])
def test_retryable_failures_back_off_then_fail_visibly(
        live, live_account, sandbox, fast_retries, quick_client, monkeypatch, status):
    """Throttled or 5xx on every try: each attempt is rescheduled with a
    growing countdown; after MAX_SEND_ATTEMPTS the submission fails with an
    exception, and no poll sends it again."""
    from channels.tasks.submissions import submission_send_task

    countdowns = []
    real_apply_async = submission_send_task.apply_async

    def recording_apply_async(*args, **kwargs):
        countdowns.append(kwargs.get("countdown"))
        return real_apply_async(*args, **kwargs)

    monkeypatch.setattr(submission_send_task, "apply_async", recording_apply_async)
    # Given Amazon answers every acknowledgement POST with a retryable error
    po = _review_po(live, live_account, sandbox, fast_retries)
    _faults(sandbox, {"operation": ACK, "kind": "status", "status": status, "count": 1000})
    # When it is sent
    submission = acknowledgement_send(tenant=live, purchase_order=po)
    submission.refresh_from_db()
    # Then it waits for its next attempt, with the reason shown
    assert submission.status == SubmissionStatus.QUEUED
    assert submission.send_attempts == 1
    assert f"Attempt 1 of {MAX_SEND_ATTEMPTS} failed" in submission.status_detail
    assert submission.next_attempt_at > timezone.now()
    # When the poll rounds go on for 4 hours
    _poll_until_quiet(live, start=timezone.now(), hours=4)
    # Then it failed after exactly MAX_SEND_ATTEMPTS attempts, alerted
    submission.refresh_from_db()
    assert submission.status == SubmissionStatus.FAILURE
    assert submission.send_attempts == MAX_SEND_ATTEMPTS
    assert submission.next_attempt_at is None
    (alert,) = _open(ExceptionKind.SUBMISSION_FAILED, submission)
    assert f"Not delivered after {MAX_SEND_ATTEMPTS} attempts" in alert.message
    # And each attempt was the client's bounded retries, nothing more
    assert _ack_posts(sandbox) == MAX_SEND_ATTEMPTS * fast_retries["retry_policy"].max_attempts
    assert len(_acks_at_amazon(sandbox)) == 0
    # And the first retry was scheduled after the first back-off delay
    assert countdowns[1] == SEND_RETRY_DELAYS[0].total_seconds()


def test_a_retryable_failure_recovers_on_the_next_attempt(
        live, live_account, sandbox, fast_retries, quick_client):
    """One attempt's worth of 503s, then Amazon is back: sent once, success."""
    po = _review_po(live, live_account, sandbox, fast_retries)
    _faults(sandbox, {"operation": ACK, "kind": "status", "status": 503,
                      "count": fast_retries["retry_policy"].max_attempts})
    submission = acknowledgement_send(tenant=live, purchase_order=po)
    _poll_until_quiet(live, start=timezone.now(), hours=1)
    submission.refresh_from_db()
    assert submission.status == SubmissionStatus.SUCCESS
    assert submission.send_attempts == 2
    assert len(_acks_at_amazon(sandbox)) == 1


def test_amazon_unreachable_backs_off_then_fails_visibly(
        live, live_account, sandbox, fast_retries, quick_client):
    """Connection refused (nothing was sent): the same capped backoff."""
    po = _review_po(live, live_account, sandbox, fast_retries)
    # Given the account now points at a port nothing listens on
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    live_account.endpoint_override = f"http://127.0.0.1:{closed_port}"
    live_account.save()
    submission = acknowledgement_send(tenant=live, purchase_order=po)
    _poll_until_quiet(live, start=timezone.now(), hours=4)
    submission.refresh_from_db()
    assert submission.status == SubmissionStatus.FAILURE
    assert submission.send_attempts == MAX_SEND_ATTEMPTS
    assert _open(ExceptionKind.SUBMISSION_FAILED, submission)
    assert len(_acks_at_amazon(sandbox)) == 0


# --- lost answers, absent at Amazon, over and over: capped too -------------


def test_lost_answers_again_and_again_stop_at_the_cap(
        live, live_account, sandbox, fast_retries, quick_client):
    """Each POST's answer is lost before Amazon processed it: reconciled,
    resent while Amazon has no trace, and failed at MAX_SEND_ATTEMPTS."""
    po = _review_po(live, live_account, sandbox, fast_retries)
    _faults(sandbox, {"operation": ACK, "kind": "reset", "count": 1000})
    submission = acknowledgement_send(tenant=live, purchase_order=po)
    _poll_until_quiet(live, start=timezone.now(), hours=2)
    submission.refresh_from_db()
    assert submission.status == SubmissionStatus.FAILURE
    assert submission.send_attempts == MAX_SEND_ATTEMPTS
    assert submission.errors[0]["code"] == "NotDelivered"
    assert _ack_posts(sandbox) == MAX_SEND_ATTEMPTS
    assert len(_acks_at_amazon(sandbox)) == 0
    assert _open(ExceptionKind.SUBMISSION_FAILED, submission)
    assert not _open(ExceptionKind.OUTCOME_UNKNOWN, submission)


def test_ops_retry_after_the_checks_stopped_resends_only_if_absent(
        live, live_account, sandbox, fast_retries, quick_client):
    """A 2xx without transactionId whose document Amazon never shows: ops
    ask to reconcile and retry; Amazon has no trace, so it goes out again."""
    sandbox.control("POST", "/_sandbox/scenario", {"transactions_stuck": True})
    po = _review_po(live, live_account, sandbox, fast_retries)
    _faults(sandbox, {"operation": ACK, "kind": "no_transaction_id", "count": 1})
    submission = acknowledgement_send(tenant=live, purchase_order=po)
    start = timezone.now()
    _poll_until_quiet(live, start=start, hours=6)
    submission.refresh_from_db()
    assert submission.status == SubmissionStatus.OUTCOME_UNKNOWN
    # When ops ask for it (the task runs the reconciliation), Amazon's
    # processing having been unstuck meanwhile
    sandbox.control("POST", "/_sandbox/scenario", {"transactions_stuck": False})
    Submission.objects.filter(pk=submission.pk).update(
        updated_at=timezone.now() - datetime.timedelta(minutes=10))
    submission_retry(tenant=live, submission_id=submission.pk)
    submission.refresh_from_db()
    # Then it was sent a second time (the first never showed), and only that
    assert submission.status == SubmissionStatus.SENT
    assert submission.send_attempts == 2
    assert _ack_posts(sandbox) == 2


def test_reconcile_of_a_document_type_without_a_way_to_look_is_capped(
        live, live_account, sandbox, fast_retries, quick_client):
    """Invoices have no presence check: in doubt, checked MAX times, then
    left to ops; the invoice reached Amazon once."""
    po = _review_po(live, live_account, sandbox, fast_retries)
    line = po.lines.order_by("item_sequence_number").first()
    payload = {"invoices": [{
        "invoiceType": "Invoice", "id": "INV-1", "date": "2026-03-02T10:30:00Z",
        "remitToParty": {"partyId": "DEMO1"},
        "invoiceTotal": {"currencyCode": "USD", "amount": str(line.net_cost)},
        "items": [{"itemSequenceNumber": 1,
                   "invoicedQuantity": {"amount": 1, "unitOfMeasure": "Eaches"},
                   "netCost": {"currencyCode": "USD", "amount": str(line.net_cost)},
                   "purchaseOrderNumber": po.number}],
    }]}
    _faults(sandbox, {"operation": "submitInvoices", "kind": "no_transaction_id", "count": 1})
    submission, _created = submission_services.submission_create(
        tenant=live, account=live_account, document_type=DocumentType.INVOICE,
        document_ref="INV-1", document_version=1, payload=payload,
    )
    _poll_until_quiet(live, start=timezone.now(), hours=6)
    submission.refresh_from_db()
    assert submission.status == SubmissionStatus.OUTCOME_UNKNOWN
    assert submission.reconcile_attempts == MAX_RECONCILE_ATTEMPTS
    invoices_at_amazon = sandbox.control("GET", "/_sandbox/submissions?kind=invoice")
    assert len(invoices_at_amazon["submissions"]) == 1
    assert sandbox.stats()["calls:submitInvoices"] == 1
    # And a reconciliation asked now does nothing more
    submission_reconcile(tenant=live, submission_id=submission.pk,
                         now=timezone.now() + datetime.timedelta(days=2))
    submission.refresh_from_db()
    assert submission.reconcile_attempts == MAX_RECONCILE_ATTEMPTS
    assert sandbox.stats()["calls:submitInvoices"] == 1
