"""Large imports run on the worker as jobs with progress and a failed
state (issue 9, defect 3), through the dashboard of both apps."""

import pytest
from django.urls import reverse

from acorn.dataio import jobs
from acorn.dataio.reading import MAX_UPLOAD_BYTES
from acorn.models import AuditEntry, ImportJob, ImportJobStatus
from acorn.tenancy import tenant_scope
from channels.models import SkuMapping
from channels.tests.factories import AmazonVendorAccountFactory
from inventory.models import Product
from inventory.tests.factories import ProductFactory

ROWS = 3_000  # about 300 KiB of CSV: over the inline limit


def _products_csv(rows=ROWS, bad_line=None) -> bytes:
    lines = ["sku,name,case_pack"]
    for n in range(rows):
        case_pack = "1e100000" if n == bad_line else "6"
        lines.append(f"SKU-{n:05d},Product {n} {'x' * 80},{case_pack}")
    return ("\n".join(lines) + "\n").encode()


def _post(client, url, content, name, apply=True):
    from django.core.files.uploadedfile import SimpleUploadedFile

    data = {"file": SimpleUploadedFile(name, content)}
    if apply:
        data["apply"] = "on"
    return client.post(url, data)


@pytest.mark.django_db
def test_a_large_product_file_runs_as_a_job_with_progress(
    tenant_a, member_client, django_capture_on_commit_callbacks
):
    client = member_client(tenant_a, role="operations")
    content = _products_csv()
    assert len(content) > jobs.INLINE_MAX_BYTES
    url = reverse("inventory:product_import", kwargs={"tenant_slug": tenant_a.slug})
    # When a large file is uploaded, the task is queued after commit
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = _post(client, url, content, "big.csv")
    with tenant_scope(tenant_a):
        job = ImportJob.objects.get()
    job_url = reverse("import_job_detail", kwargs={"tenant_slug": tenant_a.slug,
                                                    "job_id": job.pk})
    # Then the page is the job's, queued, reloading itself
    assert response.status_code == 302 and response["Location"] == job_url
    page = client.get(job_url)
    assert page.status_code == 200 and page["Refresh"] == "2"
    assert "Queued" in page.content.decode()
    # When the worker runs it (eager Celery)
    for callback in callbacks:
        callback()
    with tenant_scope(tenant_a):
        job.refresh_from_db()
        assert job.status == ImportJobStatus.SUCCEEDED
        assert job.rows_read == ROWS and job.attempts == 1 and bytes(job.content) == b""
        assert Product.objects.count() == ROWS
        assert AuditEntry.objects.filter(object_type="inventory.Product").count() == 1
    page = client.get(job_url)
    body = page.content.decode()
    # Then the page shows the result without reloading
    assert "Refresh" not in page
    assert "Finished: 3000 rows read." in body
    assert "Showing 500 of 3000 rows, errors first." in body


@pytest.mark.django_db
def test_a_failing_job_shows_why_and_writes_nothing(
    tenant_a, member_client, django_capture_on_commit_callbacks
):
    client = member_client(tenant_a, role="operations")
    url = reverse("inventory:product_import", kwargs={"tenant_slug": tenant_a.slug})
    # Given a large file over the row limit (refused while streaming)
    content = _products_csv(rows=20_001)
    with django_capture_on_commit_callbacks(execute=True):
        _post(client, url, content, "many.csv")
    with tenant_scope(tenant_a):
        job = ImportJob.objects.get()
        assert job.status == ImportJobStatus.FAILED and not Product.objects.exists()
        assert job.error == "The file has more than 20000 rows; split it."
        assert job.rows_read == 20_000
    page = client.get(reverse("import_job_detail", kwargs={"tenant_slug": tenant_a.slug,
                                                            "job_id": job.pk}))
    assert "Failed: nothing was changed." in page.content.decode()
    assert job.error in page.content.decode()


@pytest.mark.django_db
def test_a_job_with_row_errors_writes_nothing(tenant_a):
    with tenant_scope(tenant_a):
        job = jobs.import_job_create(tenant=tenant_a, kind="inventory.products",
                                     filename="p.csv", content=_products_csv(bad_line=7),
                                     apply=True)
        jobs.import_job_run(tenant=tenant_a, job_id=job.pk)
        job.refresh_from_db()
        # The file was read; the bad row is listed first; nothing written
        assert job.status == ImportJobStatus.SUCCEEDED
        assert job.result["has_errors"] and not job.result["applied"]
        assert job.result["rows"][0]["line"] == 9
        assert not Product.objects.exists()


@pytest.mark.django_db
def test_a_job_whose_worker_died_twice_fails_instead_of_looping(tenant_a):
    with tenant_scope(tenant_a):
        job = ImportJob.objects.create(tenant=tenant_a, kind="inventory.products",
                                       filename="p.csv", content=_products_csv(rows=2),
                                       status=ImportJobStatus.RUNNING,
                                       attempts=jobs.JOB_MAX_ATTEMPTS)
        jobs.import_job_run(tenant=tenant_a, job_id=job.pk)
        job.refresh_from_db()
        assert job.status == ImportJobStatus.FAILED
        assert job.error.startswith("The worker stopped twice")
        # and a finished job is left alone when the message comes again
        jobs.import_job_run(tenant=tenant_a, job_id=job.pk)
        assert ImportJob.objects.get(pk=job.pk).attempts == jobs.JOB_MAX_ATTEMPTS


@pytest.mark.django_db
def test_a_large_mapping_file_runs_as_a_job_for_admins_only(
    tenant_a, member_client, django_capture_on_commit_callbacks
):
    with tenant_scope(tenant_a):
        AmazonVendorAccountFactory(tenant=tenant_a, name="US")
        ProductFactory(tenant=tenant_a, sku="A-1")
    lines = ["account,asin,sku"] + [f"US,B0{n:08d},A-1" for n in range(20_000)]
    content = ("\n".join(lines) + "\n").encode()
    assert len(content) > jobs.INLINE_MAX_BYTES
    admin = member_client(tenant_a, role="admin")
    url = reverse("channels:mapping_import", kwargs={"tenant_slug": tenant_a.slug})
    with django_capture_on_commit_callbacks(execute=True):
        response = _post(admin, url, content, "m.csv")
    assert response.status_code == 302
    with tenant_scope(tenant_a):
        job = ImportJob.objects.get()
        assert job.status == ImportJobStatus.SUCCEEDED, job.error
        assert SkuMapping.objects.count() == 20_000
    # An operations user may not read an admin import's page
    ops = member_client(tenant_a, role="operations")
    assert ops.get(response["Location"]).status_code == 403


@pytest.mark.django_db
@pytest.mark.parametrize(("name", "role"), [("inventory:product_import", "operations"),
                                            ("channels:mapping_import", "admin")])
def test_an_upload_over_the_limit_is_cut_off_while_it_arrives(tenant_a, member_client, name,
                                                               role, monkeypatch):
    from django.core.files.uploadhandler import TemporaryFileUploadHandler

    # Given the handler that would store the file counts what it receives
    stored = []
    original = TemporaryFileUploadHandler.receive_data_chunk
    monkeypatch.setattr(TemporaryFileUploadHandler, "receive_data_chunk",
                        lambda self, data, start: stored.append(len(data)) or original(
                            self, data, start))
    client = member_client(tenant_a, role=role)
    url = reverse(name, kwargs={"tenant_slug": tenant_a.slug})
    # When a file one byte over the limit is posted
    response = _post(client, url, b"x" * (MAX_UPLOAD_BYTES + 1), "big.csv")
    # Then the page says so, nothing is queued, and the storage handler got
    # less than the limit
    assert response.status_code == 200
    assert "The file is larger than 10 MB." in response.content.decode()
    with tenant_scope(tenant_a):
        assert not ImportJob.objects.exists()
    assert sum(stored) <= MAX_UPLOAD_BYTES


@pytest.mark.django_db
def test_the_upload_views_still_check_csrf(tenant_a, member_client):
    from django.test import Client

    user = member_client(tenant_a, role="admin").user
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(user)
    url = reverse("inventory:product_import", kwargs={"tenant_slug": tenant_a.slug})
    assert _post(strict, url, b"sku,name\n", "p.csv").status_code == 403
