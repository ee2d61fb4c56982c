"""SKU mappings: account + ASIN / vendor product id <-> our product.

Create, update, delete (audited), CSV/XLSX import with a dry run (all
rows or none, per-row errors, re-import is a no-op), export, and
"map and retry" from an UNMAPPED_LINE exception.
"""

from __future__ import annotations

import tablib
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from acorn.dataio import (
    ImportResult,
    RowResult,
    asin_validate,
    cell_bool,
    cell_integer,
    cell_text,
    echo,
    export_dataset,
    import_row_action,
    sku_validate,
)
from acorn.exceptions import ApplicationError, NotFoundError
from acorn.models import AuditAction
from acorn.services import audit_record, audit_snapshot, model_update
from channels.models import (
    AckStatus,
    AmazonVendorAccount,
    ChannelException,
    ExceptionKind,
    ExceptionStatus,
    OrderUnit,
    PurchaseOrder,
    PurchaseOrderLine,
    SkuMapping,
)
from channels.services.purchase_orders import (
    mapping_index_load,
    purchase_orders_plan_enqueue,
)
from inventory.services import product_resolve, products_resolve

MAPPING_COLUMNS = ["account", "asin", "vendor_product_id", "sku", "order_unit",
                   "units_per_order_unit", "is_active"]
MAPPING_FIELDS = ["asin", "vendor_product_id", "product", "order_unit", "units_per_order_unit",
                  "is_active"]
MAPPING_NOT_FOUND = "No such SKU mapping."
MISSING_COLUMNS = "Missing columns: {columns}."
NOT_AN_UNMAPPED_LINE = "This exception is not an open unmapped-line exception."
# Amazon's vendor product id is the vendor's own code (SKU or EAN): any
# printable text up to the column's 64 characters.
VENDOR_PRODUCT_ID_INVALID = "A vendor product id has at most 64 printable characters."


def _clean(mapping: SkuMapping) -> None:
    mapping.asin = mapping.asin.strip().upper()
    mapping.vendor_product_id = mapping.vendor_product_id.strip()
    mapping.full_clean(exclude=["tenant", "account", "product"], validate_constraints=False)
    clash = SkuMapping.objects.filter(tenant=mapping.tenant, account=mapping.account).exclude(
        pk=mapping.pk
    )
    if clash.filter(asin=mapping.asin).exists():
        raise ApplicationError(f"ASIN {mapping.asin} is already mapped for this account.")
    if mapping.vendor_product_id and clash.filter(
        vendor_product_id=mapping.vendor_product_id
    ).exists():
        raise ApplicationError(
            f"Vendor product id {mapping.vendor_product_id} is already mapped for this account."
        )


@transaction.atomic
def mapping_create(*, tenant, account, asin: str, product, vendor_product_id: str = "",
                   order_unit: str = OrderUnit.EACHES, units_per_order_unit: int = 1,
                   actor=None) -> SkuMapping:
    if account.tenant_id != tenant.pk:
        raise NotFoundError("No such Amazon vendor account.")
    product = product_resolve(tenant=tenant, ref=product)
    mapping = SkuMapping(
        tenant=tenant, account=account, asin=asin, vendor_product_id=vendor_product_id,
        product=product, order_unit=order_unit, units_per_order_unit=units_per_order_unit,
    )
    _clean(mapping)
    mapping.save()
    audit_record(actor=actor, action=AuditAction.CREATE, instance=mapping,
                 after=audit_snapshot(mapping), summary="SKU mapping created")
    return mapping


@transaction.atomic
def mapping_update(*, tenant, mapping: SkuMapping, data: dict, actor=None):
    data = dict(data)
    if "product" in data:
        data["product"] = product_resolve(tenant=tenant, ref=data["product"])
    before = audit_snapshot(mapping)
    for name in ("asin", "vendor_product_id"):
        if name in data:
            data[name] = data[name].strip().upper() if name == "asin" else data[name].strip()
    candidate = SkuMapping(pk=mapping.pk, tenant=tenant, account=mapping.account,
                           asin=data.get("asin", mapping.asin),
                           vendor_product_id=data.get("vendor_product_id",
                                                      mapping.vendor_product_id),
                           product=data.get("product", mapping.product))
    _clean(candidate)
    mapping, changed = model_update(instance=mapping, fields=MAPPING_FIELDS, data=data)
    if changed:
        audit_record(actor=actor, action=AuditAction.UPDATE, instance=mapping, before=before,
                     after=audit_snapshot(mapping), summary="SKU mapping updated")
    return mapping, changed


@transaction.atomic
def mapping_delete(*, tenant, mapping: SkuMapping, actor=None) -> None:
    before = audit_snapshot(mapping)
    audit_record(actor=actor, action=AuditAction.DELETE, instance=mapping, before=before,
                 summary="SKU mapping deleted")
    mapping.delete()


# --- import / export --------------------------------------------------------------


def _field_errors(validate, value: str) -> list[str]:
    try:
        validate(value)
    except ValidationError as exc:
        return [str(message) for message in exc.messages]
    return []


def _vendor_product_id_validate(value: str) -> str:
    if len(value) > 64 or not value.isprintable():
        raise ValidationError(VENDOR_PRODUCT_ID_INVALID)
    return value


@transaction.atomic
def mapping_import(*, tenant, dataset: tablib.Dataset, dry_run: bool = True, actor=None):
    """Create or update mappings keyed by (account, ASIN); all rows or none.

    Reports per row: unknown account or product, an ASIN or vendor product
    id twice in the file or already mapped to another row, bad values.
    Uses the kernel's ImportResult/RowResult so every preview looks the same.
    """
    missing = [c for c in ("account", "asin", "sku") if c not in dataset.headers]
    if missing:
        raise ApplicationError(MISSING_COLUMNS.format(columns=", ".join(missing)))
    rows = [dict(zip(dataset.headers, values, strict=False)) for values in dataset]
    accounts = {a.name: a for a in AmazonVendorAccount.objects.filter(tenant=tenant)}
    skus = {cell_text(row.get("sku")) for row in rows if cell_text(row.get("sku"))}
    try:
        products = products_resolve(tenant=tenant, refs=list(skus))
    except ApplicationError as error:
        known = set(skus) - set((error.extra or {}).get("products", []))
        products = products_resolve(tenant=tenant, refs=list(known)) if known else {}
    existing = {
        (m.account_id, m.asin): m
        for m in SkuMapping.objects.filter(tenant=tenant).select_related("product")
    }
    by_vendor_id = {(m.account_id, m.vendor_product_id): m for m in existing.values()
                    if m.vendor_product_id}
    results, to_create, to_update = [], [], []
    seen_asins, seen_vendor_ids = set(), set()
    for line, row in enumerate(rows, start=2):
        errors: dict[str, list[str]] = {}
        account = accounts.get(cell_text(row.get("account")))
        asin = cell_text(row.get("asin")).upper()
        vendor_product_id = cell_text(row.get("vendor_product_id"))
        sku = cell_text(row.get("sku"))
        if account is None:
            errors["account"] = [
                f"Unknown account {echo(cell_text(row.get('account'))) or '(blank)'}."
            ]
        if not asin:
            errors["asin"] = ["This field cannot be blank."]
        elif asin_errors := _field_errors(asin_validate, asin):
            errors["asin"] = asin_errors
        if vendor_id_errors := _field_errors(_vendor_product_id_validate, vendor_product_id):
            errors["vendor_product_id"] = vendor_id_errors
        product = products.get(sku)
        if sku and (sku_errors := _field_errors(sku_validate, sku)):
            errors["sku"] = sku_errors
        elif product is None:
            errors["sku"] = [f"Unknown product {echo(sku) or '(blank)'}."]
        order_unit = cell_text(row.get("order_unit")) or OrderUnit.EACHES
        if order_unit not in OrderUnit.values:
            errors["order_unit"] = [f"Use one of {', '.join(OrderUnit.values)}."]
        try:
            units = cell_integer(row.get("units_per_order_unit"), 1, min_value=1)
        except ValidationError:
            errors["units_per_order_unit"] = ["Enter a whole number of at least 1."]
            units = 1
        is_active = cell_bool(row.get("is_active"), default=True)
        account_id = account.pk if account else None
        if account and asin:
            if (account_id, asin) in seen_asins:
                errors["asin"] = [f"ASIN {echo(asin)} appears twice for {account.name}."]
            seen_asins.add((account_id, asin))
        if account and vendor_product_id:
            if (account_id, vendor_product_id) in seen_vendor_ids:
                errors["vendor_product_id"] = [
                    f"Vendor product id {echo(vendor_product_id)} appears twice for {account.name}."
                ]
            seen_vendor_ids.add((account_id, vendor_product_id))
            other = by_vendor_id.get((account_id, vendor_product_id))
            if other is not None and other.asin != asin:
                errors["vendor_product_id"] = [
                    f"Vendor product id {echo(vendor_product_id)} is already mapped to ASIN "
                    f"{other.asin}."
                ]
        mapping = existing.get((account_id, asin))
        is_new = mapping is None
        if is_new:
            mapping = SkuMapping(tenant=tenant, account=account, asin=asin)
        values = {"vendor_product_id": vendor_product_id, "order_unit": order_unit,
                  "units_per_order_unit": units, "is_active": is_active}
        changes = {}
        for name, value in values.items():
            if getattr(mapping, name) != value:
                changes[name] = value
                setattr(mapping, name, value)
        if product is not None and mapping.product_id != product.pk:
            changes["sku"] = sku
            mapping.product = product
        if not errors:
            try:
                mapping.full_clean(exclude=["tenant", "account", "product"],
                                   validate_unique=False, validate_constraints=False)
            except ValidationError as exc:
                errors.update(exc.message_dict)
        action = import_row_action(
            errors=errors, is_new=is_new, changes=changes, instance=mapping,
            to_create=to_create, to_update=to_update,
        )
        results.append(RowResult(line=line, key=echo(f"{cell_text(row.get('account'))} {asin}"),
                                 action=action, errors=errors,
                                 changes={k: echo(v, 100) for k, v in changes.items()}))
    result = ImportResult(rows=results, applied=False)
    if dry_run or result.has_errors:
        return result
    now = timezone.now()
    SkuMapping.objects.bulk_create(to_create)
    for mapping in to_update:
        mapping.updated_at = now
    if to_update:
        SkuMapping.objects.bulk_update(to_update, [*MAPPING_FIELDS, "updated_at"])
    if to_create or to_update:
        audit_record(
            actor=actor, action=AuditAction.ACTION, object_type="channels.SkuMapping",
            summary=f"SKU mappings imported: {len(to_create)} created, "
            f"{len(to_update)} updated",
            after={"created": len(to_create), "updated": len(to_update)},
        )
    result.applied = True
    return result


def mapping_import_file(*, tenant, dataset: tablib.Dataset, dry_run: bool = True, actor=None,
                        filename: str = "") -> ImportResult:
    """The importer registered for dashboard uploads and import jobs."""
    return mapping_import(tenant=tenant, dataset=dataset, dry_run=dry_run, actor=actor)


def mapping_export_dataset(*, tenant) -> tablib.Dataset:
    """Every mapping in the import's own columns (a round trip is a no-op),
    formula-safe."""
    mappings = SkuMapping.objects.filter(tenant=tenant).select_related("account", "product")
    return export_dataset(headers=MAPPING_COLUMNS, rows=(
        [m.account.name, m.asin, m.vendor_product_id, m.product.sku, m.order_unit,
         m.units_per_order_unit, "yes" if m.is_active else "no"]
        for m in mappings.order_by("account__name", "asin", "id")
    ))


# --- map and retry ----------------------------------------------------------------------


@transaction.atomic
def purchase_order_lines_resolve(*, tenant, purchase_order: PurchaseOrder) -> bool:
    """Re-map the PO's unmapped lines; unblock it when none is left.

    Returns True when the PO was unblocked and handed to planning.
    """

    purchase_order = PurchaseOrder.objects.select_for_update().get(
        tenant=tenant, pk=purchase_order.pk
    )
    mappings = mapping_index_load(tenant=tenant, account=purchase_order.account)
    lines = list(PurchaseOrderLine.objects.filter(
        tenant=tenant, purchase_order=purchase_order, product__isnull=True
    ))
    now = timezone.now()
    mapped_keys, still_unmapped = [], 0
    for line in lines:
        found = mappings.resolve(asin=line.asin, vendor_product_id=line.vendor_product_id)
        if found is None:
            still_unmapped += int(line.ordered_quantity > 0)
            continue
        line.product_id, line.units_per_order_unit = found
        line.updated_at = now
        mapped_keys.append(f"po:{purchase_order.pk}/line:{line.item_sequence_number}")
    PurchaseOrderLine.objects.bulk_update(
        [line for line in lines if line.product_id], ["product", "units_per_order_unit",
                                                      "updated_at"]
    )
    ChannelException.objects.filter(
        tenant=tenant, kind=ExceptionKind.UNMAPPED_LINE, status=ExceptionStatus.OPEN,
        subject_key__in=mapped_keys,
    ).update(status=ExceptionStatus.RESOLVED, resolved_at=now, updated_at=now,
             resolution="Mapped; the PO was retried.")
    if still_unmapped:
        return False
    unblocked = purchase_order.ack_status == AckStatus.BLOCKED
    model_update(instance=purchase_order, fields=["has_unmapped_lines", "ack_status"], data={
        "has_unmapped_lines": False,
        "ack_status": AckStatus.PENDING if unblocked else purchase_order.ack_status,
    })
    if unblocked:
        purchase_orders_plan_enqueue(tenant=tenant, purchase_order_ids=[purchase_order.pk])
    return unblocked


@transaction.atomic
def exception_map_and_retry(*, tenant, exception_id: int, product, order_unit: str = "",
                            units_per_order_unit: int = 1, actor=None):
    """From an UNMAPPED_LINE exception: create the mapping, re-resolve the
    PO's lines, unblock the PO and hand it to acknowledgement planning."""
    exception = (
        ChannelException.objects.select_for_update(of=("self",))
        .select_related("account", "purchase_order")
        .filter(tenant=tenant, pk=exception_id).first()
    )
    if exception is None:
        raise NotFoundError("No such exception.")
    if exception.kind != ExceptionKind.UNMAPPED_LINE or exception.status != ExceptionStatus.OPEN:
        raise ApplicationError(NOT_AN_UNMAPPED_LINE)
    detail = exception.detail or {}
    asin = detail.get("asin", "")
    existing = SkuMapping.objects.filter(tenant=tenant, account=exception.account,
                                         asin=asin).first() if asin else None
    if existing is None:
        mapping = mapping_create(
            tenant=tenant, account=exception.account, asin=asin or detail.get(
                "vendor_product_id", "")[:10],
            vendor_product_id=detail.get("vendor_product_id", "") or "",
            product=product, order_unit=order_unit or OrderUnit.EACHES,
            units_per_order_unit=units_per_order_unit, actor=actor,
        )
    else:
        mapping, _changed = mapping_update(
            tenant=tenant, mapping=existing, actor=actor,
            data={"product": product, "is_active": True},
        )
    unblocked = purchase_order_lines_resolve(tenant=tenant,
                                             purchase_order=exception.purchase_order)
    audit_record(
        actor=actor, action=AuditAction.ACTION, instance=exception,
        summary=f"Mapped {asin} and retried PO {exception.purchase_order.number}",
        after={"mapping": mapping.pk, "unblocked": unblocked},
    )
    return mapping, unblocked
