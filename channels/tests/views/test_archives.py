"""The data-retention page (admins): setting, archive list, download."""

import gzip

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from acorn.models import AuditEntry
from acorn.tenancy import tenant_scope
from channels.tests.isolation import _archive_run


@pytest.mark.django_db
def test_admin_sets_retention_within_bounds(tenant_a, member_client):
    client = member_client(tenant_a, "admin")
    url = reverse("channels:archive_list", kwargs={"tenant_slug": tenant_a.slug})
    too_short = client.post(url, {"data_retention_days": "7"})
    assert too_short.status_code == 200
    assert "greater than or equal to 30" in too_short.content.decode()
    assert client.post(url, {"data_retention_days": "180"}).status_code == 302
    tenant_a.refresh_from_db()
    assert tenant_a.data_retention_days == 180
    with tenant_scope(tenant_a):
        entry = AuditEntry.objects.get(summary="Data retention changed")
    assert entry.after == {"data_retention_days": 180}


@pytest.mark.django_db
def test_operations_staff_cannot_change_retention(tenant_a, member_client):
    client = member_client(tenant_a, "operations")
    url = reverse("channels:archive_list", kwargs={"tenant_slug": tenant_a.slug})
    assert client.post(url, {"data_retention_days": "30"}).status_code == 403


@pytest.mark.django_db
def test_archive_list_queries_do_not_grow_with_runs(tenant_a, member_client):
    client = member_client(tenant_a, "admin")
    url = reverse("channels:archive_list", kwargs={"tenant_slug": tenant_a.slug})
    _archive_run(tenant_a)
    with CaptureQueriesContext(connection) as one:
        assert client.get(url).status_code == 200
    for _ in range(5):
        _archive_run(tenant_a)
    with CaptureQueriesContext(connection) as six:
        assert client.get(url).status_code == 200
    assert len(six) == len(one)


@pytest.mark.django_db
def test_download_serves_the_stored_archive(tenant_a, member_client):
    client = member_client(tenant_a, "admin")
    run, marker = _archive_run(tenant_a)
    response = client.get(reverse("channels:archive_download",
                                  kwargs={"tenant_slug": tenant_a.slug, "run_id": run.pk}))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/gzip"
    body = b"".join(response.streaming_content)
    assert marker in gzip.decompress(body).decode()


@pytest.mark.django_db
def test_archive_api_lists_runs_with_constant_queries(tenant_a, api_client_for):
    api = api_client_for(tenant_a)
    url = reverse("api:channels:archive_list")
    run, _marker = _archive_run(tenant_a)
    api.get(url)  # the key's first use records last_used_at
    with CaptureQueriesContext(connection) as one:
        body = api.get(url).json()
    assert body["results"][0]["sha256"] == run.sha256
    for _ in range(4):
        _archive_run(tenant_a)
    with CaptureQueriesContext(connection) as five:
        assert len(api.get(url).json()["results"]) == 5
    assert len(five) == len(one)


@pytest.mark.django_db
def test_admin_retries_a_failed_archive_run(tenant_a, tenant_b, member_client, monkeypatch,
                                            django_capture_on_commit_callbacks):
    from channels.models import ApiCallLog, ArchiveRun, ArchiveStatus
    from channels.services import archives
    from channels.tests.factories import AmazonVendorAccountFactory
    from channels.tests.services.test_data_archive import OLD, _calls

    with tenant_scope(tenant_a):
        account = AmazonVendorAccountFactory(tenant=tenant_a)
        _calls(tenant_a, account, 3, age=OLD)
    # Given a run that failed while exporting (storage unavailable)
    real_export = archives._export
    monkeypatch.setattr(archives, "_export", lambda run, tenant: (_ for _ in ()).throw(
        OSError("disk full")))
    with tenant_scope(tenant_a):
        archives.data_archive(tenant=tenant_a)
        run = ArchiveRun.objects.get(dataset="api_calls")
    assert run.status == ArchiveStatus.FAILED
    monkeypatch.setattr(archives, "_export", real_export)
    client = member_client(tenant_a, "admin")
    url = reverse("channels:archive_list", kwargs={"tenant_slug": tenant_a.slug})
    page = client.get(url).content.decode()
    assert "OSError: disk full" in page and f'name="retry" value="{run.pk}"' in page
    # When the admin presses Retry (the task is enqueued after commit; the
    # test runs the captured callback, and the eager task with it)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = client.post(url, {"retry": str(run.pk)})
    assert len(callbacks) == 1
    # Then the run completes and the old rows are gone
    assert response.status_code == 302
    with tenant_scope(tenant_a):
        run.refresh_from_db()
        assert run.status == ArchiveStatus.COMPLETED, run.error_message
        assert run.row_count == 3
        assert ApiCallLog.objects.count() == 0
    # And another tenant's admin cannot retry it
    other = member_client(tenant_b, "admin")
    other_url = reverse("channels:archive_list", kwargs={"tenant_slug": tenant_b.slug})
    assert other.post(other_url, {"retry": str(run.pk)}).status_code == 404
    assert other.post(other_url, {"retry": "x"}).status_code == 404
