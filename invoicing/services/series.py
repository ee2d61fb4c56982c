"""Number series: prefixes and padding per document kind, one default per
kind. The next number is the issue service's alone (gap-free); this page
never lowers it, so a number is never given twice."""

from __future__ import annotations

import re

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from acorn.exceptions import NotFoundError
from acorn.models import AuditAction
from acorn.services import audit_record, audit_snapshot
from acorn.tenancy import tenant_scope
from invoicing.models import DocumentKind, NumberSeries

CODE_PATTERN = re.compile(r"^[A-Z0-9][A-Z0-9_-]{0,19}$")
PREFIX_PATTERN = re.compile(r"^[A-Za-z0-9/_.-]{0,20}$")
MIN_PADDING, MAX_PADDING = 1, 12


def _clean(*, prefix: str, padding: int) -> tuple[str, int]:
    prefix = (prefix or "").strip()
    errors = {}
    if not PREFIX_PATTERN.match(prefix):
        errors["prefix"] = _("A prefix has at most 20 letters, digits and - _ . / only.")
    if not MIN_PADDING <= int(padding) <= MAX_PADDING:
        errors["padding"] = _("Padding is between %(low)s and %(high)s digits.") % {
            "low": MIN_PADDING, "high": MAX_PADDING}
    if errors:
        raise ValidationError(errors)
    return prefix, int(padding)


def _make_default(*, tenant, series: NumberSeries) -> None:
    NumberSeries.objects.filter(tenant=tenant, kind=series.kind, is_default=True).exclude(
        pk=series.pk).update(is_default=False)


@transaction.atomic
def number_series_create(*, tenant, code: str, kind: str, prefix: str, padding: int = 6,
                         is_default: bool = False, actor=None) -> NumberSeries:
    code = (code or "").strip().upper()
    if not CODE_PATTERN.match(code):
        raise ValidationError({"code": _("A code has up to 20 capital letters, digits, - or _.")})
    if kind not in DocumentKind.values:
        raise ValidationError({"kind": _("Choose a document kind.")})
    prefix, padding = _clean(prefix=prefix, padding=padding)
    with tenant_scope(tenant):
        if NumberSeries.objects.filter(tenant=tenant, code=code).exists():
            raise ValidationError({"code": _("A series with this code exists.")})
        series = NumberSeries(tenant=tenant, code=code, kind=kind, prefix=prefix,
                              padding=padding)
        if is_default:
            _make_default(tenant=tenant, series=series)
            series.is_default = True
        series.save()
        audit_record(actor=actor, action=AuditAction.CREATE, instance=series,
                     after=audit_snapshot(series), summary=f"Number series {code} added")
    return series


@transaction.atomic
def number_series_update(*, tenant, series_id: int, prefix: str, padding: int,
                         is_default: bool, actor=None) -> NumberSeries:
    """Change prefix, padding or the default flag; never the next number."""
    prefix, padding = _clean(prefix=prefix, padding=padding)
    with tenant_scope(tenant):
        series = NumberSeries.objects.select_for_update().filter(tenant=tenant,
                                                                 pk=series_id).first()
        if series is None:
            raise NotFoundError(_("No such number series."))
        before = audit_snapshot(series)
        if series.is_default and not is_default:
            raise ValidationError({"is_default": _(
                "Make another series the default for this kind instead.")})
        if is_default and not series.is_default:
            _make_default(tenant=tenant, series=series)
        series.prefix, series.padding, series.is_default = prefix, padding, is_default
        series.save(update_fields=["prefix", "padding", "is_default", "updated_at"])
        audit_record(actor=actor, action=AuditAction.UPDATE, instance=series, before=before,
                     after=audit_snapshot(series), summary=f"Number series {series.code} changed")
    return series
