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


def _notification_marker(tenant) -> ProbeTarget:
    from acorn.notifications.services import notification_raise
    from acorn.tenancy import tenant_scope

    with tenant_scope(tenant):
        notification, _ = notification_raise(
            tenant=tenant, kind="unexplained", subject_type="probe", subject_id=tenant.slug,
            params={"reference": f"notice-{tenant.slug}", "amount": "1", "currency": "USD"})
    return notification


PROBES: dict[str, Probe] = {
    "import_job_detail": _import_job_marker,
    "notification_list": lambda tenant: ProbeTarget(
        marker=_notification_marker(tenant).params["reference"]),
    "notification_ack": lambda tenant: ProbeTarget(
        marker="", kwargs={"notification_id": _notification_marker(tenant).pk}, method="post"),
    "notification_preferences": lambda tenant: ProbeTarget(marker=tenant.name),
    "tenant_home": lambda tenant: ProbeTarget(marker=tenant.name),
    "audit_log": _audit_marker,
    "member_list": _member_marker,
    "api_key_list": _api_key_marker,
    "api:tenant_detail": lambda tenant: ProbeTarget(marker=f'"slug":"{tenant.slug}"'),
}
