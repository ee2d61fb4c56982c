"""Failed-task records: one open record per task and arguments, counted,
closed by the next success with the same arguments; tenant tasks in the
tenant, the rest (and tasks of a vanished tenant) for operators."""

import pytest

from acorn.models import PlatformTaskFailure, TaskFailureStatus
from acorn.monitoring import task_failures
from acorn.queues import Queue
from acorn.tenancy import no_tenant
from channels.models import ChannelException, ExceptionKind, ExceptionStatus
from channels.tests.factories import AmazonVendorAccountFactory


def fail(kwargs, *, task="channels.purchase_orders_sync", args=(), error=None):
    with no_tenant():
        task_failures.task_failure_record(
            task_name=task, task_id="tid", args=args, kwargs=kwargs,
            error=error or RuntimeError("token endpoint said no"),
        )


def succeed(kwargs, *, task="channels.purchase_orders_sync", args=()):
    with no_tenant():
        task_failures.task_success_record(task_name=task, args=args, kwargs=kwargs)


def open_task_exceptions():
    return ChannelException.objects.filter(kind=ExceptionKind.TASK_FAILED,
                                           status=ExceptionStatus.OPEN)


@pytest.mark.django_db(transaction=True)
def test_repeated_failures_count_on_one_exception_then_close(tenant):
    from acorn.tenancy import tenant_scope

    with tenant_scope(tenant):
        account = AmazonVendorAccountFactory(tenant=tenant)
    kwargs = {"tenant_id": tenant.pk, "account_id": account.pk}
    # Given a periodic task failing five times for one account
    for _ in range(5):
        fail(kwargs)
    # ... and once for another account (another subject)
    fail({"tenant_id": tenant.pk, "account_id": account.pk + 1000})
    with tenant_scope(tenant):
        rows = {row.detail["arguments"].get("account_id"): row for row in open_task_exceptions()}
        # Then two open exceptions; the first counts five failures
        assert sorted(rows) == sorted([account.pk, account.pk + 1000])
        first = rows[account.pk]
        assert first.detail["failure_count"] == 5
        assert first.account == account
        assert first.message == ("Background task channels.purchase_orders_sync failed: "
                                 "RuntimeError: token endpoint said no")
    # When the same task with the same arguments succeeds
    succeed(kwargs)
    with tenant_scope(tenant):
        # Then its exception closes, the other stays open
        assert [row.detail["arguments"]["account_id"] for row in open_task_exceptions()] == [
            account.pk + 1000]
        first.refresh_from_db()
        assert first.resolution == "channels.purchase_orders_sync succeeded again."
    assert not PlatformTaskFailure.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_platform_tasks_and_unknown_tenants_go_to_the_platform_record(tenant):
    fail({}, task="acorn.tasks.housekeeping", error=ConnectionError("db down"))
    fail({}, task="acorn.tasks.housekeeping", error=ConnectionError("db still down"))
    fail({"tenant_id": 987654}, task="channels.api_health_check")
    housekeeping = PlatformTaskFailure.objects.get(task_name="acorn.tasks.housekeeping")
    assert (housekeeping.failure_count, housekeeping.last_error_message) == (2, "db still down")
    orphan = PlatformTaskFailure.objects.get(task_name="channels.api_health_check")
    assert orphan.tenant_ref == 987654
    succeed({}, task="acorn.tasks.housekeeping")
    housekeeping.refresh_from_db()
    assert housekeeping.status == TaskFailureStatus.RESOLVED
    # a success with no failure before does nothing (and reads only the cache)
    succeed({}, task="acorn.tasks.housekeeping")
    assert PlatformTaskFailure.objects.filter(status=TaskFailureStatus.OPEN).count() == 1


def test_subject_ignores_the_tenant_and_hashes_the_rest():
    plain = task_failures.task_subject(task_name="t", args=(), kwargs={"tenant_id": 1})
    assert plain == "task:t"
    one = task_failures.task_subject(task_name="t", args=(), kwargs={"tenant_id": 1, "x": 2})
    other = task_failures.task_subject(task_name="t", args=(), kwargs={"tenant_id": 9, "x": 2})
    assert one == other != plain


@pytest.mark.django_db
def test_eager_task_failures_are_not_recorded(scope):
    """Eager tasks raise into their caller (tests); the signal skips them."""
    from celery import shared_task

    # Declared like every project task (acorn/tests/test_task_registry.py
    # walks the registry, which keeps this one once it is defined).
    @shared_task(name="acorn.tests.always_fails", queue=Queue.DEFAULT, soft_time_limit=10,
                 time_limit=20)
    def always_fails(*, tenant_id):
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        always_fails.delay(tenant_id=scope.pk)
    assert not ChannelException.objects.filter(kind=ExceptionKind.TASK_FAILED).exists()
    assert not PlatformTaskFailure.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_the_work_queue_lists_a_failed_task_without_account(tenant, member_client):
    from django.urls import reverse

    fail({"tenant_id": tenant.pk}, task="inventory.purchase_plan_refresh",
         error=ValueError("no lead time for product 7"))
    client = member_client(tenant, "operations")
    url = reverse("channels:exception_list", kwargs={"tenant_slug": tenant.slug})
    page = client.get(url, {"kind": ExceptionKind.TASK_FAILED}).content.decode()
    assert ("Background task inventory.purchase_plan_refresh failed: ValueError: "
            "no lead time for product 7") in page
    assert "Background task failed" in page  # the kind's label
