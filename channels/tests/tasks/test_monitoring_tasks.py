"""The monitoring tasks are thin: they enter the tenant and call the service;
the archive task goes on in a new invocation while a run is unfinished."""

import pytest

from channels.models import ArchiveRun, ArchiveStatus
from channels.services import archives
from channels.tasks import monitoring


@pytest.mark.django_db(transaction=True)
def test_archive_task_re_enqueues_itself_until_done(tenant, monkeypatch):
    # Given a service that needs two slices to finish
    outcomes = iter([{"more": True}, {"more": False}])
    calls = []

    def fake_archive(*, tenant):
        calls.append(tenant.pk)
        return next(outcomes)

    monkeypatch.setattr(archives, "data_archive", fake_archive)
    # When the task runs (eagerly, as in tests; countdown ignored)
    monitoring.data_archive_task.delay(tenant_id=tenant.pk)
    # Then it ran again once, and stopped
    assert calls == [tenant.pk, tenant.pk]


@pytest.mark.django_db(transaction=True)
def test_archive_and_health_tasks_run_for_a_tenant(tenant):
    from acorn.tenancy import tenant_scope

    monitoring.data_archive_task.delay(tenant_id=tenant.pk)
    with tenant_scope(tenant):
        statuses = list(ArchiveRun.objects.values_list("dataset", "status"))
    assert sorted(statuses) == sorted(
        (dataset, ArchiveStatus.COMPLETED) for dataset in archives.ArchiveDataset.values)
    assert monitoring.api_health_check_task.delay(tenant_id=tenant.pk).result == {
        "opened": 0, "resolved": 0}
