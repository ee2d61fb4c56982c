"""Submissions over the real sandbox: failures, stale transactions, lost
answers reconciled before any resend, exactly one POST per version."""

import datetime
from decimal import Decimal

import pytest
from django.utils import timezone

from channels.models import (
    AckAutoSend,
    AckStatus,
    ChannelException,
    DocumentType,
    ExceptionKind,
    ExceptionStatus,
    PurchaseOrder,
    PurchaseOrderEvent,
    PurchaseOrderEventKind,
    Submission,
    SubmissionStatus,
)
from channels.services.acknowledgements import acknowledgement_edit, acknowledgement_send
from channels.services.purchase_orders import purchase_orders_sync
from channels.services.submissions import (
    RETRY_NOT_ALLOWED,
    submission_reconcile,
    submission_retry,
    submissions_poll,
)
from channels.tests.services.test_acknowledgement_flow import stock_catalog

pytestmark = pytest.mark.django_db(transaction=True)


def _review_po(live, account, sandbox, fast_retries):
    """One new PO synced and planned into review (nothing sent yet)."""
    sandbox.state.generate(vendor_code="DEMO1", count=1, days=1)
    stock_catalog(live, account, sandbox)
    account.ack_auto_send = AckAutoSend.NEVER
    account.save()
    purchase_orders_sync(tenant=live, account=account, **fast_retries)
    po = PurchaseOrder.objects.get(state="New")
    assert po.ack_status == AckStatus.REVIEW
    return po


def _acks_at_amazon(sandbox) -> list:
    return sandbox.control("GET", "/_sandbox/submissions?kind=acknowledgement")["submissions"]


def test_transaction_failure_shows_amazons_error_on_the_po(live, live_account, sandbox,
                                                           fast_retries):
    """Amazon's business errors from getTransaction land on the submission and the PO."""
    # Given a PO in review whose first line ops priced below the PO cost
    po = _review_po(live, live_account, sandbox, fast_retries)
    line = po.lines.order_by("item_sequence_number").first()
    acknowledgement_edit(tenant=live, purchase_order=po, lines=[{
        "line_id": line.pk, "accept": line.planned_accept, "backorder": line.planned_backorder,
        "reject": line.planned_reject, "net_cost": line.net_cost - Decimal("0.01"),
    }])
    # When it is sent and the transaction polled
    acknowledgement_send(tenant=live, purchase_order=po)
    submissions_poll(tenant=live)
    # Then the submission failed with Amazon's error, shown on the PO
    submission = Submission.objects.get(document_type=DocumentType.ACKNOWLEDGEMENT)
    assert submission.status == SubmissionStatus.FAILURE
    assert submission.errors[0]["code"] == "NET_COST_MISMATCH"
    po.refresh_from_db()
    assert po.ack_status == AckStatus.FAILED
    failed = PurchaseOrderEvent.objects.get(
        purchase_order=po, kind=PurchaseOrderEventKind.ACK_FAILED)
    assert failed.detail["errors"][0]["code"] == "NET_COST_MISMATCH"
    assert ChannelException.objects.filter(
        kind=ExceptionKind.SUBMISSION_FAILED, status=ExceptionStatus.OPEN, submission=submission
    ).exists()
    # When ops fix the price and send again: a new version, accepted
    acknowledgement_edit(tenant=live, purchase_order=po, lines=[{
        "line_id": line.pk, "accept": line.planned_accept, "backorder": line.planned_backorder,
        "reject": line.planned_reject, "net_cost": line.net_cost,
    }])
    second = acknowledgement_send(tenant=live, purchase_order=po)
    submissions_poll(tenant=live)
    second.refresh_from_db()
    assert second.document_version == 2
    assert second.status == SubmissionStatus.SUCCESS
    po.refresh_from_db()
    assert po.ack_status == AckStatus.ACCEPTED


def test_stuck_processing_turns_stale_and_alerts(live, live_account, sandbox, fast_retries):
    """A transaction still Processing after 30 minutes is stale and alerted."""
    # Given Amazon's transactions never finish
    sandbox.control("POST", "/_sandbox/scenario", {"transactions_stuck": True})
    po = _review_po(live, live_account, sandbox, fast_retries)
    submission = acknowledgement_send(tenant=live, purchase_order=po)
    # When polled right away: processing, no alert
    submissions_poll(tenant=live)
    submission.refresh_from_db()
    assert submission.status == SubmissionStatus.PROCESSING
    assert not ChannelException.objects.filter(kind=ExceptionKind.SUBMISSION_STALE).exists()
    # When polled 31 minutes after sending
    submissions_poll(tenant=live, now=submission.sent_at + datetime.timedelta(minutes=31))
    # Then it is stale, with an open work-queue item
    submission.refresh_from_db()
    assert submission.status == SubmissionStatus.STALE
    alert = ChannelException.objects.get(kind=ExceptionKind.SUBMISSION_STALE)
    assert alert.status == ExceptionStatus.OPEN
    assert "still processing" in alert.message
    # And exactly one acknowledgement was ever sent
    assert len(_acks_at_amazon(sandbox)) == 1


@pytest.mark.parametrize("fault, landed", [("reset_after", True), ("reset", False)])
def test_outcome_unknown_is_reconciled_not_blindly_resent(live, live_account, sandbox,
                                                          fast_retries, fault, landed):
    """A lost answer is settled by asking Amazon: found -> success without a
    second POST; absent -> sent again once."""
    # Given the connection drops on the acknowledgement POST (after or
    # before Amazon processed it)
    po = _review_po(live, live_account, sandbox, fast_retries)
    sandbox.control("POST", "/_sandbox/faults", {"faults": [
        {"operation": "submitAcknowledgement", "kind": fault, "count": 1}]})
    # When it is sent
    submission = acknowledgement_send(tenant=live, purchase_order=po)
    submission.refresh_from_db()
    # Then the outcome is unknown, alerted, and nothing is resent yet
    assert submission.status == SubmissionStatus.OUTCOME_UNKNOWN
    assert ChannelException.objects.filter(kind=ExceptionKind.OUTCOME_UNKNOWN,
                                           status=ExceptionStatus.OPEN).exists()
    assert len(_acks_at_amazon(sandbox)) == (1 if landed else 0)
    # When reconciliation runs before the grace period: nothing happens
    submission_reconcile(tenant=live, submission_id=submission.pk)
    submission.refresh_from_db()
    assert submission.status == SubmissionStatus.OUTCOME_UNKNOWN
    # When it runs after the grace period
    later = timezone.now() + datetime.timedelta(minutes=5)
    submission_reconcile(tenant=live, submission_id=submission.pk, now=later)
    submission.refresh_from_db()
    # Then Amazon holds exactly one acknowledgement of the PO
    assert len(_acks_at_amazon(sandbox)) == 1
    if landed:
        assert submission.status == SubmissionStatus.SUCCESS
        assert "reconciliation" in submission.status_detail
        assert submission.send_attempts == 1
    else:
        assert submission.status == SubmissionStatus.SENT
        assert submission.send_attempts == 2
    assert not ChannelException.objects.filter(kind=ExceptionKind.OUTCOME_UNKNOWN,
                                               status=ExceptionStatus.OPEN).exists()


def test_retry_is_refused_for_a_failed_submission(live, live_account, sandbox, fast_retries):
    """Only in-doubt submissions can be retried; failures need a new version."""
    po = _review_po(live, live_account, sandbox, fast_retries)
    submission = acknowledgement_send(tenant=live, purchase_order=po)
    Submission.objects.filter(pk=submission.pk).update(status=SubmissionStatus.FAILURE)
    with pytest.raises(Exception, match=RETRY_NOT_ALLOWED[:40]):
        submission_retry(tenant=live, submission_id=submission.pk)


def test_sending_the_same_version_twice_submits_once(live, live_account, sandbox, fast_retries):
    """A second send (double click, replayed task) returns the same submission."""
    po = _review_po(live, live_account, sandbox, fast_retries)
    first = acknowledgement_send(tenant=live, purchase_order=po)
    second = acknowledgement_send(tenant=live, purchase_order=po)
    from channels.services.submissions import submission_send

    submission_send(tenant=live, submission_id=first.pk)
    assert first.pk == second.pk
    assert Submission.objects.count() == 1
    assert len(_acks_at_amazon(sandbox)) == 1
