"""Cross-tenant probes for reconciliation's pages and endpoints."""

from __future__ import annotations

from tests.isolation import ProbeTarget


def _remittance(tenant):
    """An issued invoice of ``tenant`` and a payment of it with a shortage
    claim (matched) and a line needing review."""
    from reconciliation.services import remittance_import_create
    from reconciliation.tests.factories import issued_document

    slug = tenant.slug.upper()
    issued_document(tenant=tenant, number=f"INV-{slug}-1", amount="100.00")
    issued_document(tenant=tenant, number=f"INV-{slug}-0002", amount="55.00")
    data = (f"Payment Number,Invoice Number,Amount Paid,Currency\n"
            f"PAY-{slug},INV-{slug}-1,100.00,USD\n"
            f"PAY-{slug},INV-{slug}-1SC,-7.00,USD\n"
            f"PAY-{slug},INV-{slug}-2,55.00,USD\n").encode()
    remittance_import, _ = remittance_import_create(
        tenant=tenant, data=data, filename=f"remittance-{tenant.slug}.csv")
    return remittance_import


def _list(tenant):
    _remittance(tenant)
    return ProbeTarget(marker=f"remittance-{tenant.slug}.csv")


def _import_detail(tenant):
    remittance_import = _remittance(tenant)
    return ProbeTarget(marker=f"PAY-{tenant.slug.upper()}",
                       kwargs={"import_id": remittance_import.pk})


def _payments(tenant):
    _remittance(tenant)
    return ProbeTarget(marker=f"PAY-{tenant.slug.upper()}")


def _payment_detail(tenant):
    remittance_import = _remittance(tenant)
    from acorn.tenancy import tenant_scope

    with tenant_scope(tenant):
        payment = remittance_import.payments.get()
    return ProbeTarget(marker=f"INV-{tenant.slug.upper()}-1SC",
                       kwargs={"payment_id": payment.pk})


def _review(tenant):
    _remittance(tenant)
    return ProbeTarget(marker=f"INV-{tenant.slug.upper()}-0002")


def _open_items(tenant):
    _remittance(tenant)
    return ProbeTarget(marker=f"INV-{tenant.slug.upper()}-1")


def _api_remittances(tenant):
    _remittance(tenant)
    return ProbeTarget(marker=f'"payment_number":"PAY-{tenant.slug.upper()}"')


def _api_open_items(tenant):
    _remittance(tenant)
    return ProbeTarget(marker=f'"number":"INV-{tenant.slug.upper()}-1"')


PROBES = {
    "reconciliation:remittance_list": _list,
    "reconciliation:import_detail": _import_detail,
    "reconciliation:payment_list": _payments,
    "reconciliation:payment_detail": _payment_detail,
    "reconciliation:review_queue": _review,
    "reconciliation:open_items": _open_items,
    "api:reconciliation:remittance_list": _api_remittances,
    "api:reconciliation:open_item_list": _api_open_items,
}


# Deductions, disputes, evidence, returns and settings (isolation_deductions.py).
from reconciliation.tests.isolation_deductions import PROBES as DEDUCTION_PROBES  # noqa: E402

PROBES.update(DEDUCTION_PROBES)
