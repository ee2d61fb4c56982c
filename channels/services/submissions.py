"""Submissions: every POST to Amazon, tracked to a final state.

One ``Submission`` row is one version of one business document
(acknowledgement, shipment confirmation, invoice). The unique constraint
on (tenant, account, document_type, document_ref, document_version) makes
"submit once per version" a database fact, and a status guard taken under
``SELECT ... FOR UPDATE`` makes it a code fact::

    queued -> sending -> sent (transactionId) -> processing -> success
      ^         |                                    |      -> failure
      |         |                                    +-----> stale (alerted)
      |         +-> failure: Amazon refused (400/403/404/4xx), or
      |         |   MAX_SEND_ATTEMPTS retryable failures (alerted)
      +---------+-> queued again, backing off: 429, 5xx, nothing sent
                +-> outcome_unknown (alerted): the POST left and its answer
                    was lost (reset, timeout, 502/504), or Amazon answered
                    2xx without a transactionId -> reconciled:
                    success when Amazon has it; a lost answer that Amazon
                    has no trace of is sent again (within the cap); a 2xx
                    is never resent automatically

No state sends or checks forever: sends are capped (MAX_SEND_ATTEMPTS),
checks at Amazon too (MAX_RECONCILE_ATTEMPTS); past either cap the
submission waits, visible on the work queue, for ops.

Amazon's POSTs carry no idempotency key (spapi-vendor.md §5), so a POST
whose answer was lost is never blindly repeated: the document's owner
looks for it at Amazon first (``submission_document_find``) and only a
confirmed absence leads to a resend.

Other apps reuse this module for their documents: build the payload, call
``submission_create`` (it validates against Amazon's model and enqueues
the send), and register a hooks module for the document type with
``submission_document_hooks_register``. The hooks module defines::

    submission_document_update(*, tenant, submission) -> None
        # inside the transaction that changed submission.status
    submission_document_find(*, client, submission) -> Presence
        # read-only: is this version at Amazon? (reconciliation)
"""

from __future__ import annotations

import enum
import logging
from dataclasses import dataclass
from datetime import timedelta
from importlib import import_module

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from acorn.dependencies import enqueue_after_commit
from acorn.exceptions import ApplicationError, NotFoundError
from acorn.models import AuditAction
from acorn.services import audit_record
from channels import message_codes as messages
from channels.locks import submission_lock
from channels.models import (
    DocumentType,
    ExceptionKind,
    Submission,
    SubmissionStatus,
)
from channels.services import clients
from channels.services.exceptions import channel_exception_open, channel_exceptions_resolve
from channels.services.outages import submission_enqueue_failed
from vendor_api import contracts
from vendor_api.errors import (
    OutcomeUnknown,
    SpApiError,
    UnexpectedResponse,
)
from vendor_api.operations.transactions import TransactionStatus

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class DocumentOperation:
    operation_id: str
    path: str


DOCUMENT_OPERATIONS: dict[str, DocumentOperation] = {
    DocumentType.ACKNOWLEDGEMENT: DocumentOperation(
        "submitAcknowledgement", "/vendor/orders/v1/acknowledgements"
    ),
    DocumentType.SHIPMENT_CONFIRMATION: DocumentOperation(
        "SubmitShipmentConfirmations", "/vendor/shipping/v1/shipmentConfirmations"
    ),
    DocumentType.INVOICE: DocumentOperation("submitInvoices", "/vendor/payments/v1/invoices"),
}

# Modules that keep each document type's business record in step.
_DOCUMENT_HOOKS: dict[str, str] = {
    DocumentType.ACKNOWLEDGEMENT: "channels.services.acknowledgements",
    DocumentType.SHIPMENT_CONFIRMATION: "channels.services.shipments",
}

OPEN_STATUSES = (
    SubmissionStatus.QUEUED,
    SubmissionStatus.SENDING,
    SubmissionStatus.SENT,
    SubmissionStatus.PROCESSING,
    SubmissionStatus.STALE,
    SubmissionStatus.OUTCOME_UNKNOWN,
)
POLLED_STATUSES = (SubmissionStatus.SENT, SubmissionStatus.PROCESSING, SubmissionStatus.STALE)
IN_DOUBT_STATUSES = (SubmissionStatus.SENDING, SubmissionStatus.OUTCOME_UNKNOWN)

# Amazon's transactions usually settle in seconds to minutes; still
# "Processing" after this is treated as unknown and alerted (spapi-vendor
# §5: field reports of transactions stuck for days).
STALE_AFTER = timedelta(minutes=getattr(settings, "ACORN_SUBMISSION_STALE_MINUTES", 30))
# A POST that left us may still land at Amazon until the client's read
# timeout (30 s) plus retries have passed; reconciling earlier could miss
# it and resend. Two minutes covers the client's 60 s budget twice.
RECONCILE_GRACE = timedelta(
    seconds=getattr(settings, "ACORN_SUBMISSION_RECONCILE_GRACE_SECONDS", 120)
)
# A queued submission whose send task was lost (worker died between commit
# and enqueue) is picked up by the poll this long after it was due.
QUEUED_PICKUP_AFTER = timedelta(minutes=5)
# One send attempt is one POST, which the client already retries on 429,
# 5xx and connection errors up to 5 times within 60 s (transport.py). Five
# attempts spaced by SEND_RETRY_DELAYS (about 50 minutes in all) outlast a
# throttling burst or a typical SP-API incident and still leave most of the
# 24-hour acknowledgement window to ops once the failure is alerted.
MAX_SEND_ATTEMPTS = 5
# A scheduled retry may run a moment before its due time (clocks of the
# broker and the workers differ slightly): it is not refused for that.
SEND_EARLY_TOLERANCE = timedelta(seconds=5)
SEND_RETRY_DELAYS = (
    timedelta(minutes=1), timedelta(minutes=5), timedelta(minutes=15), timedelta(minutes=30),
)
# Checks at Amazon of an in-doubt submission, RECONCILE_GRACE apart and
# doubling up to an hour: 2, 4, 8, 16, 32, 60, 60, 60 minutes, about four
# hours in all, long past any transaction Amazon still processes (spapi-
# vendor §5). Then automatic checks stop and ops decide from the work queue.
MAX_RECONCILE_ATTEMPTS = 8
RECONCILE_MAX_INTERVAL = timedelta(hours=1)
# getTransaction is 10 rps / burst 20; one poll run asks about at most
# this many submissions (~5 s at the sustained rate, well inside limits).
POLL_BATCH = 50
# Poll a submission no more often than this, growing with its age.
POLL_MIN_INTERVAL = timedelta(seconds=10)
POLL_MAX_INTERVAL = timedelta(minutes=10)

UNKNOWN_DOCUMENT_TYPE = "No Amazon operation for document type {document_type}."
PAYLOAD_INVALID = "The {operation} payload does not match Amazon's model: {problems}"
SUBMISSION_NOT_FOUND = "No such submission."
RETRY_NOT_ALLOWED = (
    "Only submissions whose outcome is unknown can be retried; fix the document and send "
    "a new version instead."
)
NO_TRANSACTION_ID = (
    "Amazon answered {status} but sent no transactionId: the document may be at Amazon. "
    "It is checked there, never resent automatically."
)
GAVE_UP_SENDING = "Not delivered after {attempts} attempts: {error}"
BACKING_OFF = "Attempt {attempts} of {limit} failed ({error}); next attempt at {at:%H:%M} UTC."
RECONCILE_STOPPED = (
    "Checked at Amazon {attempts} times without an answer; automatic checks stopped. "
    "Use Reconcile and retry once Amazon shows the document (or does not)."
)


class Presence(enum.StrEnum):
    PRESENT = "present"
    ABSENT = "absent"
    UNKNOWN = "unknown"


def submission_document_hooks_register(*, document_type: str, module_path: str) -> None:
    """Name the hooks module of a document type (e.g. invoicing's)."""
    _DOCUMENT_HOOKS[document_type] = module_path


def _hooks(document_type: str):
    path = _DOCUMENT_HOOKS.get(document_type)
    return import_module(path) if path else None


def _document_update(*, tenant, submission: Submission) -> None:
    hooks = _hooks(submission.document_type)
    if hooks is not None:
        hooks.submission_document_update(tenant=tenant, submission=submission)


def submission_payload_problems(*, document_type: str, payload: dict) -> list[str]:
    """Problems of ``payload`` against Amazon's model (empty = ok).

    Checked with the request contracts the repository carries
    (``vendor_api.contracts``), never with files outside it.
    """
    operation = DOCUMENT_OPERATIONS.get(document_type)
    if operation is None:
        raise ApplicationError(UNKNOWN_DOCUMENT_TYPE.format(document_type=document_type))
    return contracts.request_problems(operation_id=operation.operation_id, body=payload)


def _send_later(*, tenant_id: int, submission_id: int, countdown: float | None = None) -> None:
    # Imported here: channels.tasks.submissions imports this module (breaks the cycle).
    from channels.tasks.submissions import submission_send_task

    # A dead broker leaves the submission QUEUED with the reason shown and
    # an exception open; submissions_poll sends it when the queue is back.
    enqueue_after_commit(
        lambda: submission_send_task.apply_async(
            kwargs={"tenant_id": tenant_id, "submission_id": submission_id},
            countdown=countdown,
        ),
        on_unavailable=lambda error: submission_enqueue_failed(
            tenant_id=tenant_id, submission_id=submission_id, error=error),
    )


def _reconcile_later(*, tenant_id: int, submission_id: int, countdown: float,
                     requested_by_ops: bool = False) -> None:
    # Imported here: channels.tasks.submissions imports this module (breaks the cycle).
    from channels.tasks.submissions import submission_reconcile_task

    kwargs = {"tenant_id": tenant_id, "submission_id": submission_id}
    if requested_by_ops:
        kwargs["requested_by_ops"] = True
    enqueue_after_commit(
        lambda: submission_reconcile_task.apply_async(kwargs=kwargs, countdown=countdown),
        on_unavailable=lambda error: submission_enqueue_failed(
            tenant_id=tenant_id, submission_id=submission_id, error=error),
    )


@transaction.atomic
def submission_create(
    *,
    tenant,
    account,
    document_type: str,
    document_ref: str,
    document_version: int,
    payload: dict,
    send: bool = True,
) -> tuple[Submission, bool]:
    """The submission of one document version; created (and sent) once.

    The payload is validated against Amazon's model first: a document
    Amazon would refuse with 400 never becomes a submission. Calling again
    with the same (account, type, ref, version) returns the existing row
    and sends nothing. Returns ``(submission, created)``.
    """
    problems = submission_payload_problems(document_type=document_type, payload=payload)
    if problems:
        operation = DOCUMENT_OPERATIONS[document_type].operation_id
        raise ApplicationError(
            PAYLOAD_INVALID.format(operation=operation, problems="; ".join(problems)[:400]),
            {"problems": problems},
        )
    key = {
        "tenant": tenant,
        "account": account,
        "document_type": document_type,
        "document_ref": document_ref,
        "document_version": document_version,
    }
    existing = Submission.objects.filter(**key).first()
    if existing is not None:
        return existing, False
    submission = Submission(payload=payload, status=SubmissionStatus.QUEUED, **key)
    submission.full_clean(exclude=["tenant", "account"], validate_constraints=False)
    try:
        with transaction.atomic():
            submission.save(force_insert=True)
    except IntegrityError:
        # A concurrent create of the same version won: use its row.
        return Submission.objects.get(**key), False
    if send:
        _send_later(tenant_id=tenant.pk, submission_id=submission.pk)
    return submission, True


def _errors_json(errors) -> list[dict]:
    return [
        {"code": e.code, "message": e.message, "details": e.details} for e in errors or ()
    ]


@transaction.atomic
def _submission_transition(
    *, tenant, submission_id: int, expected: tuple[str, ...], status: str,
    alert: str | None = None, **fields
) -> Submission | None:
    """Move a submission from one of ``expected`` to ``status``, with hooks.

    ``alert`` words the work-queue item the new status opens, when the
    default wording does not fit (a failure that is not Amazon's refusal).
    """
    submission = submission_lock(tenant=tenant, submission_id=submission_id)
    if submission is None or submission.status not in expected:
        return None
    now = timezone.now()
    submission.status = status
    for name, value in fields.items():
        setattr(submission, name, value)
    if status in (SubmissionStatus.SUCCESS, SubmissionStatus.FAILURE):
        submission.completed_at = now
        submission.next_attempt_at = None
    submission.status_detail = (submission.status_detail or "")[:500]
    submission.full_clean(exclude=["tenant", "account"], validate_constraints=False)
    submission.save()
    _exceptions_follow(tenant=tenant, submission=submission, alert=alert)
    _document_update(tenant=tenant, submission=submission)
    return submission


def _label(submission: Submission) -> str:
    return (f"{submission.get_document_type_display()} {submission.document_ref} "
            f"v{submission.document_version}")


def _alert_or(alert: str | None, code: str, **params) -> dict:
    """The exception's message: the caller's alert (English) when given,
    else ``code`` with ``params``, shown in the reader's language."""
    return {"message": alert} if alert else {"code": code, "params": params}


def _exceptions_follow(*, tenant, submission: Submission, alert: str | None = None) -> None:
    """Open or resolve the work-queue items that follow the status."""
    subject = f"submission:{submission.pk}"
    status = submission.status
    label = _label(submission)
    if status == SubmissionStatus.FAILURE:
        first = (submission.errors or [{}])[0]
        channel_exception_open(
            tenant=tenant, account=submission.account, kind=ExceptionKind.SUBMISSION_FAILED,
            subject_key=subject, submission=submission,
            **_alert_or(alert, messages.SUBMISSION_REJECTED, submission=label,
                        error=f"{first.get('code', '')} {first.get('message', '')}".strip()),
            detail={"errors": submission.errors},
        )
    elif status == SubmissionStatus.STALE:
        channel_exception_open(
            tenant=tenant, account=submission.account, kind=ExceptionKind.SUBMISSION_STALE,
            subject_key=subject, submission=submission,
            code=messages.SUBMISSION_STALE,
            params={"submission": label, "sent": f"{submission.sent_at:%Y-%m-%d %H:%M}"},
        )
    elif status == SubmissionStatus.OUTCOME_UNKNOWN:
        channel_exception_open(
            tenant=tenant, account=submission.account, kind=ExceptionKind.OUTCOME_UNKNOWN,
            subject_key=subject, submission=submission,
            **_alert_or(alert, messages.SUBMISSION_OUTCOME_UNKNOWN, submission=label),
        )
    if status not in (SubmissionStatus.STALE,):
        channel_exceptions_resolve(
            tenant=tenant, kind=ExceptionKind.SUBMISSION_STALE, subject_keys=[subject],
            resolution=f"Submission is now {status}.",
        )
    if status not in (SubmissionStatus.OUTCOME_UNKNOWN,):
        channel_exceptions_resolve(
            tenant=tenant, kind=ExceptionKind.OUTCOME_UNKNOWN, subject_keys=[subject],
            resolution=f"Submission is now {status}.",
        )


def _client_for(account, client_factory=None):
    if client_factory is not None:
        return client_factory(account)

    return clients.account_client_build(account=account)


def _send_retry_delay(attempts: int) -> timedelta:
    """The wait after the ``attempts``-th failed send (1-based)."""
    return SEND_RETRY_DELAYS[min(attempts, len(SEND_RETRY_DELAYS)) - 1]


def _reconcile_delay(attempts: int) -> timedelta:
    """The wait before the next check at Amazon after ``attempts`` checks."""
    return min(RECONCILE_GRACE * 2 ** attempts, RECONCILE_MAX_INTERVAL)


def _in_doubt(*, tenant, submission_id: int, detail: str, alert: str | None = None,
              **fields) -> None:
    """SENDING -> OUTCOME_UNKNOWN, first checked at Amazon after the grace."""
    moved = _submission_transition(
        tenant=tenant, submission_id=submission_id, expected=(SubmissionStatus.SENDING,),
        status=SubmissionStatus.OUTCOME_UNKNOWN, alert=alert, status_detail=detail,
        reconcile_attempts=0, next_attempt_at=timezone.now() + RECONCILE_GRACE, **fields,
    )
    if moved is not None:
        with transaction.atomic():
            _reconcile_later(tenant_id=tenant.pk, submission_id=submission_id,
                             countdown=RECONCILE_GRACE.total_seconds())


def _error_record(error: SpApiError) -> list[dict]:
    """Amazon's errors[] when it sent some, else one entry naming the error."""
    return _errors_json(error.errors) or [
        {"code": error.error_code or type(error).__name__, "message": error.message,
         "details": ""}
    ]


def submission_send(*, tenant, submission_id: int, client_factory=None,
                    now=None) -> Submission:
    """POST a queued submission to Amazon once.

    Deliberately not one transaction: SENDING is committed before the
    HTTP call, so a worker killed mid-call leaves SENDING behind, and the
    next run treats it as "outcome unknown" (reconcile, never resend
    blindly). Anything but QUEUED is left alone (replays send nothing),
    and so is a QUEUED submission backing off whose time has not come.

    Every answer ends the attempt in a named state: SENT (a transactionId),
    FAILURE (Amazon refused it, or the last of MAX_SEND_ATTEMPTS failed),
    QUEUED with the next attempt scheduled (throttled, 5xx, nothing sent),
    OUTCOME_UNKNOWN (the answer was lost, or a 2xx had no transactionId).
    """
    with transaction.atomic():
        submission = submission_lock(tenant=tenant, submission_id=submission_id)
        if submission is None:
            raise NotFoundError(SUBMISSION_NOT_FOUND)
        if submission.status == SubmissionStatus.SENDING:
            in_doubt = True
        elif submission.status != SubmissionStatus.QUEUED:
            return submission
        elif submission.next_attempt_at and submission.next_attempt_at > (
            now or timezone.now()
        ) + SEND_EARLY_TOLERANCE:
            # An early duplicate of a backed-off send: its own task comes later.
            return submission
        else:
            in_doubt = False
            submission.status = SubmissionStatus.SENDING
            submission.send_attempts += 1
            submission.status_detail = ""
            submission.next_attempt_at = None
            submission.reconcile_attempts = 0
            submission.save(update_fields=["status", "send_attempts", "status_detail",
                                           "next_attempt_at", "reconcile_attempts",
                                           "updated_at"])
    if in_doubt:
        # An earlier send was cut off mid-call: its POST may have landed.
        logger.warning("Submission %s found SENDING: outcome unknown", submission_id)
        _in_doubt(tenant=tenant, submission_id=submission_id,
                  detail="The sending worker stopped mid-call; reconciling before any resend.")
        return Submission.objects.get(tenant=tenant, pk=submission_id)

    operation = DOCUMENT_OPERATIONS[submission.document_type]
    try:
        with _client_for(submission.account, client_factory) as client:
            response = client.transport.call(
                operation=operation.operation_id, method="POST", path=operation.path,
                body=submission.payload,
            )
            receipt = client._transaction_receipt(response)
    except UnexpectedResponse as error:
        # A 2xx without a usable transactionId: Amazon took the document
        # (or may have). Nothing to poll, and resending could submit it
        # twice: reconcile by looking for the document itself.
        _in_doubt(
            tenant=tenant, submission_id=submission_id,
            detail=NO_TRANSACTION_ID.format(status=error.status),
            alert=f"{_label(submission)}: {NO_TRANSACTION_ID.format(status=error.status)}",
            request_id=error.request_id or "", sent_at=timezone.now(),
        )
    except OutcomeUnknown as error:
        _in_doubt(tenant=tenant, submission_id=submission_id, detail=str(error)[:500],
                  request_id=error.request_id or "")
    except SpApiError as error:
        if error.retryable and submission.send_attempts < MAX_SEND_ATTEMPTS:
            # Throttled, 5xx, nothing sent: Amazon processed nothing. Back off.
            delay = _send_retry_delay(submission.send_attempts)
            due = timezone.now() + delay
            queued = _submission_transition(
                tenant=tenant, submission_id=submission_id,
                expected=(SubmissionStatus.SENDING,), status=SubmissionStatus.QUEUED,
                next_attempt_at=due, request_id=error.request_id or "",
                status_detail=BACKING_OFF.format(
                    attempts=submission.send_attempts, limit=MAX_SEND_ATTEMPTS,
                    error=str(error)[:300], at=due),
            )
            if queued is not None:
                with transaction.atomic():
                    _send_later(tenant_id=tenant.pk, submission_id=submission_id,
                                countdown=delay.total_seconds())
        else:
            # Refused (400 with Amazon's errors, 403, 404, other 4xx, a
            # refused grant), or retryable failures past the cap: end it,
            # visibly. A new version (or a re-authorised account) sends again.
            gave_up = error.retryable
            detail = (GAVE_UP_SENDING.format(attempts=submission.send_attempts,
                                             error=str(error)) if gave_up else str(error))
            _submission_transition(
                tenant=tenant, submission_id=submission_id,
                expected=(SubmissionStatus.SENDING,), status=SubmissionStatus.FAILURE,
                request_id=error.request_id or "", errors=_error_record(error),
                status_detail=detail[:500],
                alert=f"{_label(submission)}: {detail}"[:500] if gave_up else None,
            )
    else:
        _submission_transition(
            tenant=tenant, submission_id=submission_id, expected=(SubmissionStatus.SENDING,),
            status=SubmissionStatus.SENT, transaction_id=receipt.transaction_id,
            request_id=receipt.request_id or "", sent_at=timezone.now(),
        )
    return Submission.objects.select_related("account").get(tenant=tenant, pk=submission_id)


def submission_reconcile(
    *, tenant, submission_id: int, resend: bool = True, client_factory=None, now=None,
    requested_by_ops: bool = False,
) -> Submission:
    """Settle an in-doubt submission by asking Amazon, then maybe resend.

    Present at Amazon -> SUCCESS (no second POST). Absent after a lost
    answer -> QUEUED and sent again, only when ``resend`` and within
    MAX_SEND_ATTEMPTS. Absent after a 2xx without transactionId -> left in
    doubt (Amazon took it; it may still appear) unless ops asked
    (``requested_by_ops``). Unknown (Amazon unreachable, or no way to look)
    -> checked again later, at most MAX_RECONCILE_ATTEMPTS times. Too early
    (the lost POST could still land) -> left as it is.
    """
    now = now or timezone.now()
    submission = Submission.objects.select_related("account").filter(
        tenant=tenant, pk=submission_id
    ).first()
    if submission is None:
        raise NotFoundError(SUBMISSION_NOT_FOUND)
    if submission.status not in (*IN_DOUBT_STATUSES, SubmissionStatus.STALE):
        return submission
    if submission.status in IN_DOUBT_STATUSES:
        if submission.reconcile_attempts >= MAX_RECONCILE_ATTEMPTS and not requested_by_ops:
            return submission
        due = submission.next_attempt_at or submission.updated_at + RECONCILE_GRACE
        if now < due and not (requested_by_ops and now - submission.updated_at
                              >= RECONCILE_GRACE):
            return submission
    hooks = _hooks(submission.document_type)
    presence = Presence.UNKNOWN
    if hooks is not None:
        try:
            with _client_for(submission.account, client_factory) as client:
                presence = hooks.submission_document_find(client=client, submission=submission)
        except SpApiError as error:
            logger.warning("Reconciling submission %s failed: %s", submission_id, error)
            presence = Presence.UNKNOWN
    expected = (submission.status,)
    answered_2xx = submission.sent_at is not None
    if presence == Presence.PRESENT:
        _submission_transition(
            tenant=tenant, submission_id=submission_id, expected=expected,
            status=SubmissionStatus.SUCCESS,
            status_detail="Found at Amazon by reconciliation; not sent again.",
        )
    elif (presence == Presence.ABSENT and resend and submission.status in IN_DOUBT_STATUSES
          and (requested_by_ops or not answered_2xx)):
        if submission.send_attempts >= MAX_SEND_ATTEMPTS and not requested_by_ops:
            detail = GAVE_UP_SENDING.format(
                attempts=submission.send_attempts,
                error="Amazon has no trace of the document after the lost answers.")
            _submission_transition(
                tenant=tenant, submission_id=submission_id, expected=expected,
                status=SubmissionStatus.FAILURE, status_detail=detail,
                errors=[{"code": "NotDelivered", "message": detail, "details": ""}],
                alert=f"{_label(submission)}: {detail}",
            )
            return Submission.objects.select_related("account").get(tenant=tenant,
                                                                     pk=submission_id)
        queued = _submission_transition(
            tenant=tenant, submission_id=submission_id, expected=expected,
            status=SubmissionStatus.QUEUED, sent_at=None, next_attempt_at=None,
            status_detail="No trace at Amazon after the lost POST; sending again.",
        )
        if queued is not None:
            return submission_send(
                tenant=tenant, submission_id=submission_id, client_factory=client_factory
            )
    elif submission.status in IN_DOUBT_STATUSES:
        _reconcile_postpone(tenant=tenant, submission=submission, now=now)
    return Submission.objects.select_related("account").get(tenant=tenant, pk=submission_id)


@transaction.atomic
def _reconcile_postpone(*, tenant, submission: Submission, now) -> None:
    """Count one inconclusive check; plan the next, or stop at the cap."""
    locked = submission_lock(tenant=tenant, submission_id=submission.pk)
    if locked is None or locked.status != submission.status:
        return
    locked.reconcile_attempts += 1
    if locked.reconcile_attempts >= MAX_RECONCILE_ATTEMPTS:
        locked.next_attempt_at = None
        locked.status_detail = RECONCILE_STOPPED.format(attempts=locked.reconcile_attempts)
    else:
        locked.next_attempt_at = now + _reconcile_delay(locked.reconcile_attempts)
    locked.save(update_fields=["reconcile_attempts", "next_attempt_at", "status_detail",
                               "updated_at"])


@transaction.atomic
def submission_retry(*, tenant, submission_id: int, actor=None) -> Submission:
    """Ops asks for an in-doubt submission to be reconciled (and resent
    only when Amazon has no trace of it). Audited."""
    submission = submission_lock(tenant=tenant, submission_id=submission_id)
    if submission is None:
        raise NotFoundError(SUBMISSION_NOT_FOUND)
    if submission.status not in (*IN_DOUBT_STATUSES, SubmissionStatus.STALE):
        raise ApplicationError(RETRY_NOT_ALLOWED)
    audit_record(
        actor=actor, action=AuditAction.ACTION, instance=submission,
        summary="Reconcile and retry requested",
        before={"status": submission.status}, after={"status": submission.status},
    )
    countdown = 0.0
    if submission.status in IN_DOUBT_STATUSES:
        waited = timezone.now() - submission.updated_at
        countdown = max(0.0, (RECONCILE_GRACE - waited).total_seconds())
    _reconcile_later(tenant_id=tenant.pk, submission_id=submission.pk, countdown=countdown,
                     requested_by_ops=True)
    return submission


def _poll_due(submission: Submission, now) -> bool:
    if submission.last_polled_at is None:
        return True
    age = now - (submission.sent_at or submission.created_at)
    interval = min(max(age / 10, POLL_MIN_INTERVAL), POLL_MAX_INTERVAL)
    return now - submission.last_polled_at >= interval


def submissions_poll(*, tenant, client_factory=None, now=None) -> dict:
    """One round over a tenant's open submissions (the periodic task).

    - SENT/PROCESSING/STALE: getTransaction, batched and rate-limited by
      the client; Success/Failure settle the submission and its document;
      Processing past STALE_AFTER turns STALE (alerted) and is checked at
      Amazon by its document (an acknowledgement that Amazon shows as
      confirmed is a success whatever the transaction says).
    - SENDING past the grace: the worker died mid-call -> OUTCOME_UNKNOWN.
    - OUTCOME_UNKNOWN past the grace: reconciled (resent only when absent).
    - QUEUED long ago: its send task was lost -> sent.
    Returns counts per outcome.
    """
    now = now or timezone.now()
    counts: dict[str, int] = {}

    def bump(name):
        counts[name] = counts.get(name, 0) + 1

    polled = list(
        Submission.objects.filter(tenant=tenant, status__in=POLLED_STATUSES)
        .select_related("account")
        .order_by("last_polled_at", "pk")[: POLL_BATCH * 2]
    )
    due = [s for s in polled if _poll_due(s, now)][:POLL_BATCH]
    by_account: dict[int, list[Submission]] = {}
    for submission in due:
        by_account.setdefault(submission.account_id, []).append(submission)
    for submissions in by_account.values():
        try:
            with _client_for(submissions[0].account, client_factory) as client:
                for submission in submissions:
                    bump(_poll_one(tenant=tenant, client=client, submission=submission, now=now))
        except SpApiError as error:
            logger.warning("Polling transactions failed: %s", error)
            bump("error")

    for submission in Submission.objects.filter(
        tenant=tenant, status=SubmissionStatus.SENDING,
        updated_at__lt=now - RECONCILE_GRACE - timedelta(
            seconds=getattr(settings, "CELERY_TASK_TIME_LIMIT", 360) or 360
        ),
    ).only("pk"):
        _submission_transition(
            tenant=tenant, submission_id=submission.pk, expected=(SubmissionStatus.SENDING,),
            status=SubmissionStatus.OUTCOME_UNKNOWN, reconcile_attempts=0, next_attempt_at=now,
            status_detail="Sending never finished; reconciling before any resend.",
        )
        bump("sending_lost")
    for submission in Submission.objects.filter(
        Q(next_attempt_at__lte=now)
        | Q(next_attempt_at__isnull=True, updated_at__lt=now - RECONCILE_GRACE),
        tenant=tenant, status=SubmissionStatus.OUTCOME_UNKNOWN,
        reconcile_attempts__lt=MAX_RECONCILE_ATTEMPTS,
    ).only("pk").order_by("pk")[:POLL_BATCH]:
        submission_reconcile(
            tenant=tenant, submission_id=submission.pk, client_factory=client_factory, now=now
        )
        bump("reconciled")
    # A queued send whose task never ran (lost between commit and the
    # broker, or a worker gone): picked up a while after it was due.
    pickup_before = now - QUEUED_PICKUP_AFTER
    for submission in Submission.objects.filter(
        Q(next_attempt_at__lt=pickup_before)
        | Q(next_attempt_at__isnull=True, updated_at__lt=pickup_before),
        tenant=tenant, status=SubmissionStatus.QUEUED,
    ).only("pk").order_by("pk")[:POLL_BATCH]:
        try:
            submission_send(
                tenant=tenant, submission_id=submission.pk, client_factory=client_factory,
                now=now,
            )
        except SpApiError:
            bump("error")
        bump("picked_up")
    return counts


def _poll_one(*, tenant, client, submission: Submission, now) -> str:

    transaction_state = client.get_transaction(transaction_id=submission.transaction_id)
    status = transaction_state.status
    if status == TransactionStatus.SUCCESS:
        _submission_transition(
            tenant=tenant, submission_id=submission.pk, expected=POLLED_STATUSES,
            status=SubmissionStatus.SUCCESS, last_polled_at=now, status_detail="",
        )
        return "success"
    if status == TransactionStatus.FAILURE:
        _submission_transition(
            tenant=tenant, submission_id=submission.pk, expected=POLLED_STATUSES,
            status=SubmissionStatus.FAILURE, last_polled_at=now,
            errors=_errors_json(transaction_state.errors), status_detail="",
        )
        return "failure"
    stale = submission.sent_at is not None and now - submission.sent_at >= STALE_AFTER
    if stale and submission.status != SubmissionStatus.STALE:
        _submission_transition(
            tenant=tenant, submission_id=submission.pk, expected=POLLED_STATUSES,
            status=SubmissionStatus.STALE, last_polled_at=now,
            status_detail="Still processing at Amazon past the stale threshold.",
        )
        return "stale"
    if stale:
        hooks = _hooks(submission.document_type)
        if hooks is not None and hooks.submission_document_find(
            client=client, submission=submission
        ) == Presence.PRESENT:
            _submission_transition(
                tenant=tenant, submission_id=submission.pk, expected=(SubmissionStatus.STALE,),
                status=SubmissionStatus.SUCCESS, last_polled_at=now,
                status_detail="Transaction still processing; Amazon shows the document.",
            )
            return "success"
    Submission.objects.filter(tenant=tenant, pk=submission.pk).update(
        last_polled_at=now,
        status=SubmissionStatus.PROCESSING if submission.status == SubmissionStatus.SENT
        else submission.status,
        updated_at=now,
    )
    return "processing"
