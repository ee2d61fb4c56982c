"""The cross-tenant probe registry.

Every dashboard URL under /t/<slug>/ and every API URL under /api/v1/ must
have a probe, or tests/test_tenant_isolation.py fails. A probe receives
tenant A and returns what A owns at that URL: the URL kwargs of one of A's
objects (empty for a list) and a marker string that A sees there and tenant
B must never see. Apps keep their probes in ``<app>/tests/isolation.py`` as
``PROBES = {url_name: probe}``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass
class ProbeTarget:
    marker: str
    kwargs: dict = field(default_factory=dict)
    # "get" pages and endpoints; "post" for action-only URLs.
    method: str = "get"
    data: dict = field(default_factory=dict)


Probe = Callable[[object], ProbeTarget]


def _audit_marker(tenant) -> ProbeTarget:
    from acorn.services import audit_record
    from acorn.tenancy import tenant_scope

    marker = f"audit-marker-{tenant.slug}"
    with tenant_scope(tenant):
        audit_record(actor=None, action="action", object_type="probe", summary=marker)
    return ProbeTarget(marker=marker)


def _member_marker(tenant) -> ProbeTarget:
    from acorn.tests.factories import UserFactory, membership_create

    user = UserFactory(username=f"member-of-{tenant.slug}")
    membership_create(tenant=tenant, user=user, role="viewer")
    return ProbeTarget(marker=user.username)


def _api_key_marker(tenant) -> ProbeTarget:
    from acorn.services import api_key_create

    api_key_create(tenant=tenant, name=f"key-of-{tenant.slug}")
    return ProbeTarget(marker=f"key-of-{tenant.slug}")


def _import_job_marker(tenant) -> ProbeTarget:
    from acorn.models import ImportJob
    from acorn.tenancy import tenant_scope

    marker = f"import-of-{tenant.slug}.csv"
    with tenant_scope(tenant):
        job = ImportJob.objects.create(tenant=tenant, kind="inventory.products",
                                       filename=marker, content=b"")
    return ProbeTarget(marker=marker, kwargs={"job_id": job.pk})


PROBES: dict[str, Probe] = {
    "import_job_detail": _import_job_marker,
    "tenant_home": lambda tenant: ProbeTarget(marker=tenant.name),
    "audit_log": _audit_marker,
    "member_list": _member_marker,
    "api_key_list": _api_key_marker,
    "api:tenant_detail": lambda tenant: ProbeTarget(marker=f'"slug":"{tenant.slug}"'),
}
