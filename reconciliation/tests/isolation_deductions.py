"""Cross-tenant probes for the deduction, dispute, evidence, return and
settings URLs (see tests/isolation.py)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from acorn.tenancy import tenant_scope
from tests.isolation import ProbeTarget

PDF = b"%PDF-1.4\n% probe\n"


def deduction_make(tenant, *, reference=None, currency="USD", amount="42.00", **kwargs):
    from reconciliation.deduction_models import Deduction, DeductionType

    with tenant_scope(tenant):
        return Deduction.objects.create(
            tenant=tenant, deduction_type=kwargs.pop("deduction_type", DeductionType.SHORTAGE),
            reference=reference or f"DED-{tenant.slug}", currency=currency,
            amount=Decimal(amount), claim_date=kwargs.pop("claim_date", dt.date(2026, 1, 15)),
            dispute_due_date=kwargs.pop("dispute_due_date", dt.date(2026, 2, 14)), **kwargs)


def _evidence(tenant):
    from reconciliation.services.evidence import evidence_upload

    deduction = deduction_make(tenant)
    with tenant_scope(tenant):
        document = evidence_upload(tenant=tenant, deduction_id=deduction.pk, kind="bol",
                                   data=PDF + tenant.slug.encode(),
                                   filename=f"bol-{tenant.slug}.pdf", actor=None)
    return deduction, document


def _return(tenant):
    from reconciliation.services.returns import return_record

    with tenant_scope(tenant):
        event, _ = return_record(tenant=tenant, source="manual",
                                 return_reference=f"RET-{tenant.slug}", asin="B0PROBE001",
                                 quantity=1, amount="5", currency="USD",
                                 return_date=dt.date(2026, 1, 5))
    return event


def _settings(tenant):
    from reconciliation.services.deductions import dispute_settings_update

    with tenant_scope(tenant):
        dispute_settings_update(tenant=tenant, data={"shortage_window_days": 37}, actor=None)
    return ProbeTarget(marker='value="37"')


def _deduction_list(tenant):
    return ProbeTarget(marker=deduction_make(tenant).reference)


def _deduction_detail(tenant):
    deduction = deduction_make(tenant)
    return ProbeTarget(marker=deduction.reference, kwargs={"deduction_id": deduction.pk})


def _evidence_upload(tenant):
    deduction = deduction_make(tenant)
    return ProbeTarget(marker=deduction.reference, kwargs={"deduction_id": deduction.pk},
                       method="post", data={"kind": "bol"})


def _evidence_download(tenant):
    deduction, document = _evidence(tenant)
    return ProbeTarget(marker=tenant.slug, kwargs={"deduction_id": deduction.pk,
                                                   "document_id": document.pk})


def _evidence_zip(tenant):
    deduction, _document = _evidence(tenant)
    return ProbeTarget(marker=f"bol-{tenant.slug}.pdf", kwargs={"deduction_id": deduction.pk})


def _overview(tenant):
    deduction_make(tenant, currency="CHF")
    return ProbeTarget(marker="CHF")


def _return_list(tenant):
    return ProbeTarget(marker=_return(tenant).return_reference)


def _return_action(tenant):
    event = _return(tenant)
    return ProbeTarget(marker="", kwargs={"return_id": event.pk, "action": "credit-note"},
                       method="post")


def _api_deductions(tenant):
    deduction = deduction_make(tenant)
    return ProbeTarget(marker=f'"reference":"{deduction.reference}"')


def _api_disputes(tenant):
    from django.utils import timezone

    deduction = deduction_make(tenant, status="disputed", disputed_at=timezone.now(),
                               amount_disputed=Decimal("42"))
    return ProbeTarget(marker=f'"reference":"{deduction.reference}"')


PROBES = {
    "reconciliation:reconciliation_overview": _overview,
    "reconciliation:deduction_list": _deduction_list,
    "reconciliation:dispute_queue": _deduction_list,
    "reconciliation:deduction_detail": _deduction_detail,
    "reconciliation:evidence_upload": _evidence_upload,
    "reconciliation:evidence_download": _evidence_download,
    "reconciliation:evidence_pack_zip": _evidence_zip,
    "reconciliation:dispute_settings": _settings,
    "reconciliation:return_list": _return_list,
    "reconciliation:return_action": _return_action,
    "api:reconciliation:deduction_list": _api_deductions,
    "api:reconciliation:dispute_list": _api_disputes,
}
