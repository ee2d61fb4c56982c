"""What a dependency outage leaves for ops to see on the channels side.

A submission whose send message could not reach the broker stays QUEUED
(``submissions_poll`` sends QUEUED submissions whose message was lost); it
shows why, and a DEPENDENCY_UNAVAILABLE exception is open on the work queue
until the submission has left QUEUED.
"""

from __future__ import annotations

from django.utils import timezone

from acorn.dependencies import dependency_message, dependency_reason
from acorn.models import Tenant
from acorn.tenancy import tenant_scope
from channels.models import (
    ChannelException,
    ExceptionKind,
    ExceptionStatus,
    Submission,
    SubmissionStatus,
)
from channels.services.exceptions import channel_exception_open
from channels.services.runs import sync_runs_sweep

ENQUEUE_FAILED_DETAIL = (
    "Queued; the task queue was unreachable, so it is sent by the next poll once the "
    "queue is back. {reason}"
)


def submission_enqueue_failed(*, tenant_id: int, submission_id: int, error: Exception) -> None:
    """Record on the submission and the work queue that its message was
    not sent. Runs after the request's commit, so it enters the tenant."""
    tenant = Tenant.objects.get(pk=tenant_id)
    with tenant_scope(tenant):
        submission = (Submission.objects.filter(tenant=tenant, pk=submission_id)
                      .select_related("account").first())
        if submission is None:
            return
        if submission.status == SubmissionStatus.QUEUED:
            detail = ENQUEUE_FAILED_DETAIL.format(reason=dependency_reason(error))
            Submission.objects.filter(
                tenant=tenant, pk=submission_id, status=SubmissionStatus.QUEUED
            ).update(status_detail=detail[:500])
        channel_exception_open(
            tenant=tenant, account=submission.account, kind=ExceptionKind.DEPENDENCY_UNAVAILABLE,
            subject_key=f"submission:{submission_id}:enqueue", submission=submission,
            message=(f"{submission.get_document_type_display()} {submission.document_ref}: "
                     f"{dependency_message(error)}")[:500],
            detail={"reason": dependency_reason(error)[:300]},
        )


def outage_exceptions_resolve(*, tenant) -> int:
    """Resolve the enqueue-failure exceptions whose submission has left
    QUEUED (the poll sent it once the queue was back)."""
    now = timezone.now()
    return ChannelException.objects.filter(
        tenant=tenant, kind=ExceptionKind.DEPENDENCY_UNAVAILABLE, status=ExceptionStatus.OPEN,
        submission__isnull=False,
    ).exclude(submission__status=SubmissionStatus.QUEUED).update(
        status=ExceptionStatus.RESOLVED, resolved_at=now, updated_at=now,
        resolution="The task queue was reachable again and the submission was sent.",
    )


def sync_housekeeping(*, tenant) -> int:
    """The five-minute sweep: resolve the outage exceptions of submissions
    sent since, then fail the sync runs left RUNNING past their time limit
    (returns how many runs were failed)."""
    outage_exceptions_resolve(tenant=tenant)
    return sync_runs_sweep(tenant=tenant)
