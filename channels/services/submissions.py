"""Submissions: every POST to Amazon, tracked to a final state.

One ``Submission`` row is one version of one business document
(acknowledgement, shipment confirmation, invoice). The unique constraint
on (tenant, account, document_type, document_ref, document_version) makes
"submit once per version" a database fact, and a status guard taken under
``SELECT ... FOR UPDATE`` makes it a code fact::

    queued -> sending -> sent (transactionId) -> processing -> success
                |                                    |      -> failure
                |                                    +-----> stale (alerted)
                +-> outcome_unknown (POST left, no answer) -> reconciled:
                    success when Amazon has it, else queued and resent

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
from django.utils import timezone

from acorn.exceptions import ApplicationError, NotFoundError
from acorn.models import AuditAction
from acorn.services import audit_record
from channels.locks import submission_lock
from channels.models import (
    DocumentType,
    ExceptionKind,
    Submission,
    SubmissionStatus,
)
from channels.services.exceptions import channel_exception_open, channel_exceptions_resolve
from vendor_api import contracts
from vendor_api.errors import (
    InvalidInput,
    OutcomeUnknown,
    ReauthorizationRequired,
    SpApiError,
)

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
# and enqueue) is picked up by the poll after this.
QUEUED_PICKUP_AFTER = timedelta(minutes=5)
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
    from channels.tasks.submissions import submission_send_task

    transaction.on_commit(
        lambda: submission_send_task.apply_async(
            kwargs={"tenant_id": tenant_id, "submission_id": submission_id},
            countdown=countdown,
        )
    )


def _reconcile_later(*, tenant_id: int, submission_id: int, countdown: float) -> None:
    from channels.tasks.submissions import submission_reconcile_task

    transaction.on_commit(
        lambda: submission_reconcile_task.apply_async(
            kwargs={"tenant_id": tenant_id, "submission_id": submission_id},
            countdown=countdown,
        )
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
    *, tenant, submission_id: int, expected: tuple[str, ...], status: str, **fields
) -> Submission | None:
    """Move a submission from one of ``expected`` to ``status``, with hooks."""
    submission = submission_lock(tenant=tenant, submission_id=submission_id)
    if submission is None or submission.status not in expected:
        return None
    now = timezone.now()
    submission.status = status
    for name, value in fields.items():
        setattr(submission, name, value)
    if status in (SubmissionStatus.SUCCESS, SubmissionStatus.FAILURE):
        submission.completed_at = now
    submission.status_detail = (submission.status_detail or "")[:500]
    submission.full_clean(exclude=["tenant", "account"], validate_constraints=False)
    submission.save()
    _exceptions_follow(tenant=tenant, submission=submission)
    _document_update(tenant=tenant, submission=submission)
    return submission


def _exceptions_follow(*, tenant, submission: Submission) -> None:
    """Open or resolve the work-queue items that follow the status."""
    subject = f"submission:{submission.pk}"
    status = submission.status
    label = f"{submission.get_document_type_display()} {submission.document_ref} " \
            f"v{submission.document_version}"
    if status == SubmissionStatus.FAILURE:
        first = (submission.errors or [{}])[0]
        channel_exception_open(
            tenant=tenant, account=submission.account, kind=ExceptionKind.SUBMISSION_FAILED,
            subject_key=subject, submission=submission,
            message=f"{label} rejected by Amazon: {first.get('code', '')} "
                    f"{first.get('message', '')}".strip(),
            detail={"errors": submission.errors},
        )
    elif status == SubmissionStatus.STALE:
        channel_exception_open(
            tenant=tenant, account=submission.account, kind=ExceptionKind.SUBMISSION_STALE,
            subject_key=subject, submission=submission,
            message=f"{label} still processing at Amazon since "
                    f"{submission.sent_at:%Y-%m-%d %H:%M} UTC.",
        )
    elif status == SubmissionStatus.OUTCOME_UNKNOWN:
        channel_exception_open(
            tenant=tenant, account=submission.account, kind=ExceptionKind.OUTCOME_UNKNOWN,
            subject_key=subject, submission=submission,
            message=f"{label}: the answer to the POST was lost; reconciling with Amazon.",
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
    from channels.services.clients import account_client_build

    return account_client_build(account=account)


def submission_send(*, tenant, submission_id: int, client_factory=None) -> Submission:
    """POST a queued submission to Amazon once.

    Deliberately not one transaction: SENDING is committed before the
    HTTP call, so a worker killed mid-call leaves SENDING behind, and the
    next run treats it as "outcome unknown" (reconcile, never resend
    blindly). Anything but QUEUED is left alone (replays send nothing).
    """
    with transaction.atomic():
        submission = submission_lock(tenant=tenant, submission_id=submission_id)
        if submission is None:
            raise NotFoundError(SUBMISSION_NOT_FOUND)
        if submission.status == SubmissionStatus.SENDING:
            in_doubt = True
        elif submission.status != SubmissionStatus.QUEUED:
            return submission
        else:
            in_doubt = False
            submission.status = SubmissionStatus.SENDING
            submission.send_attempts += 1
            submission.status_detail = ""
            submission.save(update_fields=["status", "send_attempts", "status_detail",
                                           "updated_at"])
    if in_doubt:
        # An earlier send was cut off mid-call: its POST may have landed.
        logger.warning("Submission %s found SENDING: outcome unknown", submission_id)
        _submission_transition(
            tenant=tenant, submission_id=submission_id,
            expected=(SubmissionStatus.SENDING,), status=SubmissionStatus.OUTCOME_UNKNOWN,
            status_detail="The sending worker stopped mid-call; reconciling before any resend.",
        )
        with transaction.atomic():
            _reconcile_later(tenant_id=tenant.pk, submission_id=submission_id,
                             countdown=RECONCILE_GRACE.total_seconds())
        return Submission.objects.get(tenant=tenant, pk=submission_id)

    operation = DOCUMENT_OPERATIONS[submission.document_type]
    try:
        with _client_for(submission.account, client_factory) as client:
            response = client.transport.call(
                operation=operation.operation_id, method="POST", path=operation.path,
                body=submission.payload,
            )
            receipt = client._transaction_receipt(response)
    except OutcomeUnknown as error:
        _submission_transition(
            tenant=tenant, submission_id=submission_id, expected=(SubmissionStatus.SENDING,),
            status=SubmissionStatus.OUTCOME_UNKNOWN,
            request_id=error.request_id or "", status_detail=str(error)[:500],
        )
        with transaction.atomic():
            _reconcile_later(tenant_id=tenant.pk, submission_id=submission_id,
                             countdown=RECONCILE_GRACE.total_seconds())
    except InvalidInput as error:
        # Amazon refused the body outright (schema): nothing was accepted.
        _submission_transition(
            tenant=tenant, submission_id=submission_id, expected=(SubmissionStatus.SENDING,),
            status=SubmissionStatus.FAILURE, request_id=error.request_id or "",
            errors=_errors_json(error.errors) or [{"code": "InvalidInput",
                                                   "message": error.message, "details": ""}],
            status_detail=str(error)[:500],
        )
    except (ReauthorizationRequired, SpApiError) as error:
        # No answer means no acceptance for these (the transport raises
        # OutcomeUnknown whenever a POST body may have arrived): queue
        # again; retryable errors are retried by the task.
        _submission_transition(
            tenant=tenant, submission_id=submission_id, expected=(SubmissionStatus.SENDING,),
            status=SubmissionStatus.QUEUED, status_detail=str(error)[:500],
        )
        if error.retryable:
            raise
    else:
        _submission_transition(
            tenant=tenant, submission_id=submission_id, expected=(SubmissionStatus.SENDING,),
            status=SubmissionStatus.SENT, transaction_id=receipt.transaction_id,
            request_id=receipt.request_id or "", sent_at=timezone.now(),
        )
    return Submission.objects.select_related("account").get(tenant=tenant, pk=submission_id)


def submission_reconcile(
    *, tenant, submission_id: int, resend: bool = True, client_factory=None, now=None
) -> Submission:
    """Settle an in-doubt submission by asking Amazon, then maybe resend.

    Present at Amazon -> SUCCESS (no second POST). Absent -> QUEUED and
    sent again, only when ``resend``. Unknown (Amazon unreachable) -> left
    as it is for the next run. Too early (the lost POST could still land)
    -> left as it is.
    """
    now = now or timezone.now()
    submission = Submission.objects.select_related("account").filter(
        tenant=tenant, pk=submission_id
    ).first()
    if submission is None:
        raise NotFoundError(SUBMISSION_NOT_FOUND)
    if submission.status not in (*IN_DOUBT_STATUSES, SubmissionStatus.STALE):
        return submission
    if submission.status in IN_DOUBT_STATUSES and now - submission.updated_at < RECONCILE_GRACE:
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
    if presence == Presence.PRESENT:
        _submission_transition(
            tenant=tenant, submission_id=submission_id, expected=expected,
            status=SubmissionStatus.SUCCESS,
            status_detail="Found at Amazon by reconciliation; not sent again.",
        )
    elif presence == Presence.ABSENT and resend and submission.status in IN_DOUBT_STATUSES:
        queued = _submission_transition(
            tenant=tenant, submission_id=submission_id, expected=expected,
            status=SubmissionStatus.QUEUED,
            status_detail="No trace at Amazon after the lost POST; sending again.",
        )
        if queued is not None:
            return submission_send(
                tenant=tenant, submission_id=submission_id, client_factory=client_factory
            )
    return Submission.objects.select_related("account").get(tenant=tenant, pk=submission_id)


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
    _reconcile_later(tenant_id=tenant.pk, submission_id=submission.pk, countdown=countdown)
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
            status=SubmissionStatus.OUTCOME_UNKNOWN,
            status_detail="Sending never finished; reconciling before any resend.",
        )
        bump("sending_lost")
    for submission in Submission.objects.filter(
        tenant=tenant, status=SubmissionStatus.OUTCOME_UNKNOWN,
        updated_at__lt=now - RECONCILE_GRACE,
    ).only("pk")[:POLL_BATCH]:
        submission_reconcile(
            tenant=tenant, submission_id=submission.pk, client_factory=client_factory, now=now
        )
        bump("reconciled")
    for submission in Submission.objects.filter(
        tenant=tenant, status=SubmissionStatus.QUEUED, updated_at__lt=now - QUEUED_PICKUP_AFTER
    ).only("pk")[:POLL_BATCH]:
        try:
            submission_send(
                tenant=tenant, submission_id=submission.pk, client_factory=client_factory
            )
        except SpApiError:
            bump("error")
        bump("picked_up")
    return counts


def _poll_one(*, tenant, client, submission: Submission, now) -> str:
    from vendor_api.operations.transactions import TransactionStatus

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
