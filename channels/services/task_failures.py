"""Failed background tasks of a tenant, on its work queue.

Called by acorn.monitoring.task_failures (by dotted name) inside the
tenant's scope. One open TASK_FAILED exception per (task, arguments):
repeated failures count on it (``detail.failure_count``) instead of
flooding the queue; the task's next success with the same arguments
closes it.
"""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from acorn.messages import message_store
from channels import message_codes as messages
from channels.models import AmazonVendorAccount, ChannelException, ExceptionKind
from channels.services.exceptions import channel_exception_open, channel_exceptions_resolve


def _id_arguments(kwargs: dict) -> dict:
    """The id arguments of the task, for the record (tasks take ids only)."""
    return {
        key: value for key, value in kwargs.items()
        if key != "tenant_id" and (key.endswith("_id") or key.endswith("_ids"))
        and isinstance(value, (int, list))
    }


@transaction.atomic
def task_failure_record(
    *, tenant, task_name: str, task_id: str, subject: str, kwargs: dict, error_type: str,
    error_message: str,
) -> ChannelException:
    now = timezone.now()
    account = None
    account_id = kwargs.get("account_id")
    if isinstance(account_id, int) and not isinstance(account_id, bool):
        account = AmazonVendorAccount.objects.filter(tenant=tenant, pk=account_id).first()
    exception, created = channel_exception_open(
        tenant=tenant, account=account, kind=ExceptionKind.TASK_FAILED, subject_key=subject,
        code=messages.TASK_FAILED,
        params={"task": task_name, "error": f"{error_type}: {error_message}"[:300]},
        detail={
            "task": task_name, "task_id": task_id, "arguments": _id_arguments(kwargs),
            "error_type": error_type, "error": error_message, "failure_count": 1,
            "first_failed_at": now.isoformat(), "last_failed_at": now.isoformat(),
        },
    )
    if not created:
        exception = ChannelException.objects.select_for_update().get(pk=exception.pk)
        detail = dict(exception.detail or {})
        detail.update({
            "task_id": task_id, "error_type": error_type, "error": error_message,
            "failure_count": int(detail.get("failure_count", 1)) + 1,
            "last_failed_at": now.isoformat(),
        })
        exception.detail = detail
        code, params, message = message_store(
            messages.TASK_FAILED, task=task_name, error=f"{error_type}: {error_message}"[:300])
        exception.message, exception.message_code, exception.message_params = (
            message[:500], code, params)
        exception.save(update_fields=["detail", "message", "message_code", "message_params",
                                      "updated_at"])
    return exception


def task_failure_resolve(*, tenant, task_name: str, subject: str) -> int:
    return channel_exceptions_resolve(
        tenant=tenant, kind=ExceptionKind.TASK_FAILED, subject_keys=[subject],
        resolution=f"{task_name} succeeded again.",
    )
