"""Data retention over real PostgreSQL: old rows are exported to a gzip
JSON Lines file whose checksum and row count are recorded, then deleted in
batches; re-runs are idempotent and a crash at any point resumes."""

import datetime
import gzip
import hashlib
import json

import pytest
from django.utils import timezone

from channels.models import (
    ApiCallLog,
    ArchiveDataset,
    ArchiveRun,
    ArchiveStatus,
    ChannelException,
    ExceptionKind,
    ExceptionStatus,
    PurchaseOrderEvent,
    SyncKind,
    SyncRun,
    SyncStatus,
)
from channels.services import archives
from channels.tests.factories import AmazonVendorAccountFactory, PurchaseOrderFactory

OLD = datetime.timedelta(days=200)


def _age(queryset, delta):
    queryset.update(created_at=timezone.now() - delta)


def _calls(tenant, account, count, *, age=None, operation="getPurchaseOrders"):
    rows = ApiCallLog.objects.bulk_create([
        ApiCallLog(tenant=tenant, account=account, operation=operation, method="GET",
                   path=f"/vendor/orders/v1/purchaseOrders?n={n}", status_code=200,
                   request_id=f"req-{n}", duration_ms=n)
        for n in range(count)
    ])
    if age:
        _age(ApiCallLog.objects.filter(pk__in=[row.pk for row in rows]), age)
    return rows


def _read_archive(run):
    with archives.archive_storage().open(run.file_name, "rb") as handle:
        raw = handle.read()
    return raw, [json.loads(line) for line in gzip.decompress(raw).splitlines()]


@pytest.fixture
def account(scope):
    return AmazonVendorAccountFactory(tenant=scope)


@pytest.mark.django_db
def test_old_rows_are_archived_then_deleted_and_new_rows_stay(scope, account, monkeypatch):
    # Given 90-day retention, 12 old and 3 recent calls, old and new sync
    # runs and PO events; deletion in batches of 5
    monkeypatch.setattr(archives, "DELETE_BATCH_ROWS", 5)
    monkeypatch.setattr(archives, "EXPORT_BATCH_ROWS", 4)
    old_calls = _calls(scope, account, 12, age=OLD)
    _calls(scope, account, 3)
    for age in (OLD, None):
        run = SyncRun.objects.create(tenant=scope, account=account, kind=SyncKind.PURCHASE_ORDERS,
                                     status=SyncStatus.SUCCEEDED, started_at=timezone.now())
        if age:
            _age(SyncRun.objects.filter(pk=run.pk), age)
    po = PurchaseOrderFactory(tenant=scope, account=account)
    for key, kind in (("old", "created"), ("new", "created"), ("old-ack", "ack_sent")):
        event = PurchaseOrderEvent.objects.create(tenant=scope, purchase_order=po, kind=kind,
                                                  dedupe_key=key, occurred_at=timezone.now())
        if key.startswith("old"):
            _age(PurchaseOrderEvent.objects.filter(pk=event.pk), OLD)
    # When the daily archive runs
    outcome = archives.data_archive(tenant=scope)
    # Then each dataset has a completed run with a verified file
    assert outcome == {"more": False, "api_calls": "completed", "sync_runs": "completed",
                       "purchase_order_events": "completed"}
    run = ArchiveRun.objects.get(dataset=ArchiveDataset.API_CALLS)
    assert (run.status, run.row_count, run.deleted_count) == (ArchiveStatus.COMPLETED, 12, 12)
    raw, lines = _read_archive(run)
    assert hashlib.sha256(raw).hexdigest() == run.sha256 and len(raw) == run.file_size
    assert [line["id"] for line in lines] == sorted(row.pk for row in old_calls)
    assert lines[0]["request_id"] == "req-0" and lines[0]["tenant_id"] == scope.pk
    assert run.last_row_id == max(row.pk for row in old_calls)
    # And the database keeps only what is within retention
    assert ApiCallLog.objects.count() == 3
    assert SyncRun.objects.count() == 1
    # (acknowledgement-sent events stay: the vendor KPIs read them)
    assert sorted(PurchaseOrderEvent.objects.values_list("dedupe_key", flat=True)) == [
        "new", "old-ack"]
    assert run.cutoff == archives.archive_cutoff(tenant=scope)


@pytest.mark.django_db
def test_rerun_the_same_day_is_a_no_op(scope, account):
    _calls(scope, account, 4, age=OLD)
    archives.data_archive(tenant=scope)
    first = ArchiveRun.objects.get(dataset=ArchiveDataset.API_CALLS)
    # When it runs again (a redelivered task) and more old rows appeared
    # only within retention
    _calls(scope, account, 2)
    archives.data_archive(tenant=scope)
    # Then nothing new is archived or deleted
    assert ArchiveRun.objects.filter(dataset=ArchiveDataset.API_CALLS).count() == 1
    first_again = ArchiveRun.objects.get(pk=first.pk)
    assert (first_again.attempts, first_again.deleted_count) == (1, 4)
    assert ApiCallLog.objects.count() == 2


@pytest.mark.django_db
def test_crash_after_export_resumes_without_exporting_twice(scope, account, monkeypatch):
    _calls(scope, account, 7, age=OLD)
    real_delete = archives._delete

    def crash(run, deadline):
        raise ConnectionError("database went away")

    # Given the process dies while deleting
    monkeypatch.setattr(archives, "_delete", crash)
    archives.data_archive(tenant=scope)
    run = ArchiveRun.objects.get(dataset=ArchiveDataset.API_CALLS)
    assert run.status == ArchiveStatus.FAILED
    assert "database went away" in run.error_message
    assert run.sha256 and ApiCallLog.objects.count() == 7  # exported, nothing deleted
    stored_sha = run.sha256
    alert = ChannelException.objects.get(kind=ExceptionKind.ARCHIVE_FAILED)
    assert alert.status == ExceptionStatus.OPEN and "database went away" in alert.message
    # When the next run resumes it
    monkeypatch.setattr(archives, "_delete", real_delete)
    archives.data_archive(tenant=scope)
    run.refresh_from_db()
    # Then the same file is kept, the rows go, and the run completes
    assert (run.status, run.sha256, run.deleted_count, run.attempts) == (
        ArchiveStatus.COMPLETED, stored_sha, 7, 2)
    assert ApiCallLog.objects.count() == 0
    alert.refresh_from_db()
    assert alert.status == ExceptionStatus.RESOLVED


@pytest.mark.django_db
def test_a_tampered_file_stops_the_deletion(scope, account, monkeypatch):
    _calls(scope, account, 3, age=OLD)
    # Given the export is done but deletion has not started
    monkeypatch.setattr(archives, "_delete", lambda run, deadline: False)
    archives.data_archive(tenant=scope)
    run = ArchiveRun.objects.get(dataset=ArchiveDataset.API_CALLS)
    assert run.status == ArchiveStatus.DELETING
    # When the stored file loses a row
    storage = archives.archive_storage()
    storage.delete(run.file_name)
    storage.save(run.file_name, __import__("io").BytesIO(gzip.compress(b'{"id": 1}\n')))
    monkeypatch.undo()
    archives.data_archive(tenant=scope)
    run.refresh_from_db()
    # Then the run fails visibly and every row is still there
    assert run.status == ArchiveStatus.FAILED
    assert "does not match its record" in run.error_message
    assert ApiCallLog.objects.count() == 3


@pytest.mark.django_db
def test_out_of_time_budget_leaves_the_run_deleting_and_blocks_newer_runs(scope, account,
                                                                          monkeypatch):
    monkeypatch.setattr(archives, "DELETE_BATCH_ROWS", 2)
    _calls(scope, account, 5, age=OLD)
    outcome = archives.data_archive(tenant=scope, time_budget_seconds=0)
    run = ArchiveRun.objects.get(dataset=ArchiveDataset.API_CALLS)
    assert outcome["more"] is True and run.status == ArchiveStatus.DELETING
    # A later day: the unfinished run is finished first, then today's made
    tomorrow = timezone.now() + datetime.timedelta(days=1)
    outcome = archives.data_archive(tenant=scope, now=tomorrow)
    run.refresh_from_db()
    assert run.status == ArchiveStatus.COMPLETED and run.deleted_count == 5
    assert ArchiveRun.objects.filter(dataset=ArchiveDataset.API_CALLS).count() == 2
    assert outcome["more"] is False


@pytest.mark.django_db
def test_nothing_old_completes_without_a_file(scope, account):
    _calls(scope, account, 2)
    archives.data_archive(tenant=scope)
    run = ArchiveRun.objects.get(dataset=ArchiveDataset.API_CALLS)
    assert (run.status, run.row_count, run.file_name) == (ArchiveStatus.COMPLETED, 0, "")
    assert ApiCallLog.objects.count() == 2


@pytest.mark.django_db
def test_retention_follows_the_tenant_setting(scope, account):
    scope.data_retention_days = 30
    scope.save()
    _calls(scope, account, 2, age=datetime.timedelta(days=45))
    _calls(scope, account, 1, age=datetime.timedelta(days=20))
    archives.data_archive(tenant=scope)
    assert ApiCallLog.objects.count() == 1


@pytest.mark.django_db
def test_empty_runs_of_earlier_days_are_not_kept(scope, account):
    archives.data_archive(tenant=scope)
    archives.data_archive(tenant=scope, now=timezone.now() + datetime.timedelta(days=1))
    # one (today's) empty run per dataset remains, not one per day
    assert ArchiveRun.objects.filter(dataset=ArchiveDataset.API_CALLS).count() == 1
