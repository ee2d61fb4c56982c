"""The ops work queue: open (once per kind + subject) and resolve exceptions."""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.utils import timezone

from acorn.exceptions import ApplicationError, NotFoundError
from acorn.messages import message_store
from acorn.models import AuditAction
from acorn.services import audit_record
from channels.models import ChannelException, ExceptionStatus

EXCEPTION_NOT_FOUND = "No such exception."
EXCEPTION_ALREADY_RESOLVED = "This exception is already resolved."


def channel_exception_open(
    *,
    tenant,
    account,
    kind: str,
    subject_key: str,
    message: str = "",
    purchase_order=None,
    submission=None,
    detail: dict | None = None,
    code: str = "",
    params: dict | None = None,
) -> tuple[ChannelException, bool]:
    """The open exception for (kind, subject), created when there is none.

    ``code`` and ``params`` (channels.messages) let the page show the
    message in the reader's language; ``message`` is then the English.
"""
    if code:
        code, params, message = message_store(code, **(params or {}))
    return _exception_open(
        tenant=tenant, account=account, kind=kind, subject_key=subject_key, message=message,
        purchase_order=purchase_order, submission=submission, detail=detail, code=code,
        params=params or {},
    )


def _exception_open(*, tenant, account, kind, subject_key, message, purchase_order, submission,
                    detail, code, params):
    """

    Safe under concurrency: the partial unique constraint admits one open
    row per (tenant, kind, subject); a racing insert finds the winner's.
    """
    existing = ChannelException.objects.filter(
        tenant=tenant, kind=kind, subject_key=subject_key, status=ExceptionStatus.OPEN
    ).first()
    if existing is not None:
        return existing, False
    exception = ChannelException(
        tenant=tenant,
        account=account,
        kind=kind,
        subject_key=subject_key[:200],
        message=message[:500],
        message_code=code,
        message_params=params,
        purchase_order=purchase_order,
        submission=submission,
        detail=detail or {},
    )
    exception.full_clean(exclude=["tenant", "account", "purchase_order", "submission"],
                         validate_constraints=False)
    try:
        with transaction.atomic():
            exception.save(force_insert=True)
    except IntegrityError:
        return (
            ChannelException.objects.get(
                tenant=tenant, kind=kind, subject_key=subject_key, status=ExceptionStatus.OPEN
            ),
            False,
        )
    return exception, True


def channel_exceptions_resolve(
    *, tenant, kind: str, subject_keys=None, account=None, purchase_order=None,
    resolution: str,
) -> int:
    """Resolve every open exception of ``kind`` matching the subject filters."""
    queryset = ChannelException.objects.filter(
        tenant=tenant, kind=kind, status=ExceptionStatus.OPEN
    )
    if subject_keys is not None:
        queryset = queryset.filter(subject_key__in=list(subject_keys))
    if account is not None:
        queryset = queryset.filter(account=account)
    if purchase_order is not None:
        queryset = queryset.filter(purchase_order=purchase_order)
    now = timezone.now()
    return queryset.update(
        status=ExceptionStatus.RESOLVED, resolved_at=now, resolution=resolution[:300],
        updated_at=now,
    )


@transaction.atomic
def channel_exception_resolve(
    *, tenant, exception_id: int, resolution: str, actor=None
) -> ChannelException:
    """Ops marks one exception resolved (audited)."""
    exception = (
        ChannelException.objects.select_for_update()
        .filter(tenant=tenant, pk=exception_id)
        .first()
    )
    if exception is None:
        raise NotFoundError(EXCEPTION_NOT_FOUND)
    if exception.status != ExceptionStatus.OPEN:
        raise ApplicationError(EXCEPTION_ALREADY_RESOLVED)
    exception.status = ExceptionStatus.RESOLVED
    exception.resolved_at = timezone.now()
    exception.resolution = (resolution or "Resolved by hand.")[:300]
    exception.full_clean(exclude=["tenant", "account", "purchase_order", "submission"],
                         validate_constraints=False)
    exception.save(update_fields=["status", "resolved_at", "resolution", "updated_at"])
    audit_record(
        actor=actor,
        action=AuditAction.ACTION,
        instance=exception,
        summary=f"Exception resolved: {exception.resolution}",
        before={"status": ExceptionStatus.OPEN},
        after={"status": ExceptionStatus.RESOLVED, "resolution": exception.resolution},
    )
    return exception

