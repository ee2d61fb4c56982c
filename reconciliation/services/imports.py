"""Remittance imports: a file in, payments and lines out, all or nothing.

- Idempotent twice over: the same bytes are one import (sha256 per tenant),
  and a payment number already in the ledger adds nothing (a payment sent
  again in another file or format is skipped, counted as skipped).
- Atomic: the file is parsed whole first; any row error fails the import
  with row-level findings (line, field, rule; never a cell's contents) and
  writes no payment. The import row itself stays, failed and visible.
- Kept: the original bytes go to Django storage under their hash.
- Large files (over ``BACKGROUND_BYTES``) run on the default queue; the
  import page shows their status and row counts.
"""

from __future__ import annotations

import hashlib
import json
import os

from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from acorn.exceptions import ApplicationError
from acorn.models import AuditAction
from acorn.money import quantize_money
from acorn.services import audit_record
from acorn.tenancy import tenant_scope
from reconciliation.models import (
    ImportStatus,
    Payment,
    RemittanceImport,
    RemittanceLine,
)
from reconciliation.parsers import (
    ParseResult,
    RemittanceParseError,
    RowError,
    bounds,
    remittance_parse,
    source_detect,
)
from reconciliation.parsers.classify import line_classify
from reconciliation.services.bulk import copy_insert
from reconciliation.services.scope import in_tenant_scope

BACKGROUND_BYTES = 512 * 1024
LINE_COLUMNS = [
    "tenant_id", "payment_id", "line_number", "invoice_number_raw", "base_invoice_number",
    "kind", "description", "type_code", "invoice_date", "purchase_order_number", "currency",
    "amount_paid", "discount_taken", "gross_amount", "extra", "created_at", "updated_at",
]
_BATCH = 5000


class RemittanceImportError(ApplicationError):
    pass


@in_tenant_scope
def remittance_import_create(
    *, tenant, data: bytes, filename: str = "", source_type: str | None = None,
    account=None, actor=None, background: bool | None = None,
) -> tuple[RemittanceImport, bool]:
    """Keep the file and import it (now, or on the default queue when it
    is large). Returns (import, created); the same bytes again return the
    first import and create nothing."""
    if not data:
        raise RemittanceImportError(_("The file is empty."))
    if len(data) > bounds.MAX_UPLOAD_BYTES:
        raise RemittanceImportError(
            _("The file is larger than %(limit)d MB.")
            % {"limit": bounds.MAX_UPLOAD_BYTES // (1024 * 1024)})
    digest = hashlib.sha256(data).hexdigest()
    existing = RemittanceImport.objects.filter(tenant=tenant, sha256=digest).first()
    if existing is not None:
        return existing, False
    remittance_import = RemittanceImport(
        tenant=tenant, source_type=source_type or source_detect(data, filename),
        original_name=os.path.basename(filename or "")[:255], sha256=digest,
        size_bytes=len(data), account=account,
        uploaded_by=actor if getattr(actor, "pk", None) else None,
    )
    try:
        with transaction.atomic():
            remittance_import.file.save(digest, ContentFile(data), save=False)
            remittance_import.save()
    except IntegrityError:
        # The same file arrived at the same time from elsewhere.
        return RemittanceImport.objects.get(tenant=tenant, sha256=digest), False
    audit_record(actor=actor, action=AuditAction.CREATE, instance=remittance_import,
                 summary="remittance file imported",
                 after={"source_type": remittance_import.source_type, "sha256": digest,
                        "size_bytes": len(data)})
    if background is None:
        background = len(data) > BACKGROUND_BYTES
    if background:
        from reconciliation.tasks import remittance_import_run_task

        import_id, tenant_id = remittance_import.pk, tenant.pk
        transaction.on_commit(lambda: remittance_import_run_task.delay(
            tenant_id=tenant_id, import_id=import_id))
    else:
        remittance_import_run(tenant=tenant, import_id=remittance_import.pk)
        remittance_import.refresh_from_db()
    return remittance_import, True


def remittance_import_run(*, tenant, import_id: int) -> RemittanceImport:
    """Parse and store one import; safe to call again (a finished import
    is left as it is). Three transactions: "running" (visible to the
    import page while a background run works), the payments, the outcome."""
    with tenant_scope(tenant):
        remittance_import = (RemittanceImport.objects.select_for_update()
                             .get(tenant=tenant, pk=import_id))
        if remittance_import.status in (ImportStatus.SUCCEEDED, ImportStatus.FAILED):
            return remittance_import
        remittance_import.status = ImportStatus.RUNNING
        remittance_import.started_at = timezone.now()
        remittance_import.save(update_fields=["status", "started_at", "updated_at"])
    with remittance_import.file.open("rb") as handle:
        data = handle.read()
    try:
        result = remittance_parse(data, remittance_import.source_type,
                                  currency_default=tenant.default_currency)
    except RemittanceParseError as exc:
        return _fail(tenant, remittance_import, [RowError(None, "file", exc.code, exc.message)])
    remittance_import.rows_total = result.rows
    # Progress for the import page: the rows found are committed before the
    # store starts (a background run works outside any request transaction).
    with tenant_scope(tenant):
        RemittanceImport.objects.filter(tenant=tenant, pk=remittance_import.pk).update(
            rows_total=result.rows, updated_at=timezone.now())
    if result.errors:
        return _fail(tenant, remittance_import, result.errors)
    precision_errors = _precision_check(result)
    if precision_errors:
        return _fail(tenant, remittance_import, precision_errors)
    try:
        with tenant_scope(tenant):
            counts, warnings = _payments_store(tenant=tenant, remittance_import=remittance_import,
                                               result=result)
            from reconciliation.services.matching import payments_match

            if counts["payment_ids"]:
                payments_match(tenant=tenant, payment_ids=counts["payment_ids"])
            remittance_import.status = ImportStatus.SUCCEEDED
            remittance_import.rows_done = result.rows
            remittance_import.payments_created = len(counts["payment_ids"])
            remittance_import.payments_skipped = counts["skipped"]
            remittance_import.lines_created = counts["lines"]
            remittance_import.errors = [w.as_dict() for w in warnings]
            remittance_import.finished_at = timezone.now()
            remittance_import.save()
    except IntegrityError:
        remittance_import.status = ImportStatus.RUNNING
        return _fail(tenant, remittance_import, [RowError(
            None, "payment_number", "conflict",
            "A payment in this file was imported at the same time by another import; retry.")])
    return remittance_import


def _fail(tenant, remittance_import: RemittanceImport,
          errors: list[RowError]) -> RemittanceImport:
    """A failed import writes nothing but its own row: status and findings."""
    remittance_import.status = ImportStatus.FAILED
    remittance_import.errors = [e.as_dict() for e in errors[: bounds.MAX_ERRORS]]
    remittance_import.finished_at = timezone.now()
    with tenant_scope(tenant):
        remittance_import.save()
    return remittance_import


def _precision_check(result: ParseResult) -> list[RowError]:
    errors = []
    for payment in result.payments:
        values = [(None, "payment_amount", payment.declared_amount)]
        for line in payment.lines:
            values += [(line.source_line, "amount_paid", line.amount_paid),
                       (line.source_line, "discount_taken", line.discount_taken),
                       (line.source_line, "gross_amount", line.gross_amount)]
        for source_line, field, value in values:
            if value is not None and quantize_money(value, payment.currency) != value:
                errors.append(RowError(source_line, field, "too_precise",
                                       f"{field} has more decimals than "
                                       f"{payment.currency} allows."))
    return errors


def _payments_store(*, tenant, remittance_import, result: ParseResult):
    numbers = list(dict.fromkeys(p.payment_number for p in result.payments))
    known: set[str] = set()
    for start in range(0, len(numbers), _BATCH):
        known |= set(Payment.objects.filter(
            tenant=tenant, payment_number__in=numbers[start:start + _BATCH]
        ).values_list("payment_number", flat=True))
    fresh = []
    seen = set(known)
    skipped = 0
    for record in result.payments:
        if record.payment_number in seen:
            skipped += 1
            continue
        seen.add(record.payment_number)
        fresh.append(record)
    warnings: list[RowError] = []
    payments = []
    for record in fresh:
        currency = record.currency
        lines_total = quantize_money(record.lines_total, currency)
        amount = quantize_money(record.amount, currency)
        balanced = lines_total == amount
        if not balanced:
            warnings.append(RowError(
                None, "payment_amount", "unbalanced",
                f"Payment {record.payment_number[:64]}: the lines sum to {lines_total} "
                f"{currency}, the payment says {amount} {currency}."))
        payments.append(Payment(
            tenant=tenant, remittance_import=remittance_import,
            source_type=remittance_import.source_type, account=remittance_import.account,
            marketplace_id=record.marketplace_id[:20], payment_number=record.payment_number,
            external_id=record.external_id, payment_date=record.payment_date,
            currency=currency, amount=amount, payer_name=record.payer_name,
            payee_name=record.payee_name, lines_total=lines_total, is_balanced=balanced,
        ))
    Payment.objects.bulk_create(payments, batch_size=_BATCH)
    now = timezone.now()
    line_count = 0

    def line_rows():
        nonlocal line_count
        for payment, record in zip(payments, fresh, strict=True):
            for position, line in enumerate(record.lines, 1):
                kind, base = line_classify(line.invoice_number, line.description,
                                           line.type_code)
                line_count += 1
                yield (
                    tenant.pk, payment.pk, position, line.invoice_number, base, kind,
                    line.description, line.type_code, line.invoice_date,
                    line.purchase_order_number, payment.currency, line.amount_paid,
                    line.discount_taken, line.gross_amount,
                    json.dumps({**line.extra, "source_line": str(line.source_line)}),
                    now, now,
                )

    copy_insert(model=RemittanceLine, columns=LINE_COLUMNS, rows=line_rows())
    return {"payment_ids": [p.pk for p in payments], "skipped": skipped,
            "lines": line_count}, warnings
