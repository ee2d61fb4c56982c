"""Product and forecast imports from CSV/XLSX (tablib), with a dry run.

An import is all rows or none: any row error means nothing is written,
and the result lists every row's error. Re-importing the same file finds
every row unchanged and writes nothing.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

import tablib
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from acorn.dataio import (
    ImportAction,
    ImportResult,
    RowResult,
    asin_validate,
    cell_bool,
    cell_decimal,
    cell_integer,
    cell_text,
    echo,
    export_dataset,
    gtin_validate,
    import_row_action,
    sku_validate,
)
from acorn.exceptions import ApplicationError
from acorn.models import AuditAction
from acorn.services import audit_record
from inventory.models import (
    AmazonForecast,
    InboundStatus,
    InboundSupply,
    Product,
    StockLevel,
    Supplier,
    Warehouse,
)
from inventory.services.outbox import atp_change_mark

PRODUCT_COLUMNS = [
    "sku", "name", "gtin", "asin", "case_pack", "unit_size", "weight_grams", "hs_code",
    "country_of_origin", "is_lot_tracked", "safety_stock", "supplier_code", "moq_units",
]
FORECAST_COLUMNS = ["asin", "week_start", "mean", "p70", "p80", "p90"]
MISSING_COLUMNS = "Missing columns: {columns}."


def _optional(validate):
    """A parser that checks the format of a non-blank cell."""
    def parse(value):
        text = cell_text(value)
        return validate(text) if text else text
    return parse


def _product_values(row: dict, suppliers: dict) -> tuple[dict, dict]:
    """Parsed field values of one row, and its errors per column."""
    values, errors = {}, {}
    parsers = {
        "name": cell_text, "gtin": _optional(gtin_validate),
        "asin": lambda v: _optional(asin_validate)(cell_text(v).upper()),
        "case_pack": lambda v: cell_integer(v, 1, min_value=1), "unit_size": cell_text,
        "weight_grams": cell_decimal, "hs_code": lambda v: cell_text(v).replace(".", ""),
        "country_of_origin": lambda v: cell_text(v).upper(),
        "is_lot_tracked": cell_bool,
        "safety_stock": lambda v: cell_integer(v, 0, min_value=0),
        "moq_units": lambda v: cell_integer(v, min_value=0),
    }
    for column, parse in parsers.items():
        if column not in row:
            continue
        try:
            values[column] = parse(row[column])
        except ValidationError as exc:
            errors[column] = exc.messages
    if "supplier_code" in row:
        code = cell_text(row["supplier_code"])
        if code and code not in suppliers:
            errors["supplier_code"] = [f"Unknown supplier {echo(code)}."]
        values["supplier"] = suppliers.get(code) if code else None
    return values, errors


@transaction.atomic
def product_import(*, tenant, dataset: tablib.Dataset, dry_run: bool = True) -> ImportResult:
    """Create or update products by SKU; returns what each row does."""
    missing = [c for c in ("sku", "name") if c not in dataset.headers]
    if missing:
        raise ApplicationError(MISSING_COLUMNS.format(columns=", ".join(missing)))
    rows = [dict(zip(dataset.headers, values, strict=False)) for values in dataset]
    skus = [cell_text(row.get("sku")) for row in rows]
    existing = {p.sku: p for p in Product.objects.filter(tenant=tenant, sku__in=set(skus))}
    suppliers = {s.code: s for s in Supplier.objects.filter(tenant=tenant)}
    results, to_create, to_update, seen = [], [], [], set()
    for line, (sku, row) in enumerate(zip(skus, rows, strict=True), start=2):
        values, errors = _product_values(row, suppliers)
        if not sku:
            errors["sku"] = ["This field cannot be blank."]
        elif sku in seen:
            errors["sku"] = [f"SKU {echo(sku)} appears twice in the file."]
        else:
            try:
                sku_validate(sku)
            except ValidationError as exc:
                errors["sku"] = exc.messages
        seen.add(sku)
        product = existing.get(sku)
        is_new = product is None
        if is_new:
            product = Product(tenant=tenant, sku=sku)
        changes = {}
        for name, value in values.items():
            if getattr(product, name) != value:
                changes[name] = value
                setattr(product, name, value)
        try:
            product.full_clean(
                exclude=["tenant", "supplier", *errors], validate_unique=False,
                validate_constraints=False,
            )
        except ValidationError as exc:
            errors.update(exc.message_dict)
        action = import_row_action(
            errors=errors, is_new=is_new, changes=changes, instance=product,
            to_create=to_create, to_update=to_update,
        )
        results.append(RowResult(
            line=line, key=echo(sku), action=action, errors=errors,
            changes={k: echo("" if v is None else v, 100) for k, v in changes.items()},
        ))
    result = ImportResult(rows=results, applied=False)
    if dry_run or result.has_errors:
        return result
    now = timezone.now()
    created = Product.objects.bulk_create(to_create)
    StockLevel.objects.bulk_create([StockLevel(tenant=tenant, product=p) for p in created])
    if to_update:
        for product in to_update:
            product.updated_at = now
        Product.objects.bulk_update(to_update, [*PRODUCT_COLUMNS[1:-2], "supplier",
                                                "moq_units", "updated_at"])
        atp_change_mark(tenant=tenant, product_ids=[p.pk for p in to_update])
    result.applied = True
    return result


def product_import_file(*, tenant, dataset: tablib.Dataset, dry_run: bool = True, actor=None,
                        filename: str = "") -> ImportResult:
    """``product_import`` plus its audit entry when applied (the importer
    registered for dashboard uploads and import jobs)."""
    result = product_import(tenant=tenant, dataset=dataset, dry_run=dry_run)
    if result.applied:
        audit_record(
            actor=actor, action=AuditAction.ACTION, object_type="inventory.Product",
            object_repr=filename[:300],
            summary=f"Products imported: {result.count(ImportAction.CREATE)} created, "
                    f"{result.count(ImportAction.UPDATE)} updated",
        )
    return result


def product_export_dataset(*, tenant) -> tablib.Dataset:
    """Every product in the import's own columns (a round trip is a no-op),
    formula-safe."""
    products = Product.objects.filter(tenant=tenant).select_related("supplier")
    return export_dataset(headers=PRODUCT_COLUMNS, rows=(
        [
            p.sku, p.name, p.gtin, p.asin, p.case_pack, p.unit_size, p.weight_grams, p.hs_code,
            p.country_of_origin, "yes" if p.is_lot_tracked else "no", p.safety_stock,
            p.supplier.code if p.supplier else "", "" if p.moq_units is None else p.moq_units,
        ]
        for p in products.order_by("sku", "id")
    ))


@transaction.atomic
def forecast_import(
    *, tenant, rows: list[dict], source: str = "", dry_run: bool = False
) -> ImportResult:
    """Upsert Amazon forecast weeks: ``{asin, week_start, mean, p70, p80, p90}``.

    The latest import of an (ASIN, week) replaces the previous one. All
    rows or none, as for products.
    """
    results, valid, seen = [], [], set()
    for line, row in enumerate(rows, start=2):
        errors = {}
        asin = cell_text(row.get("asin")).upper()
        week = row.get("week_start")
        try:
            week = week if isinstance(week, date) else date.fromisoformat(cell_text(week)[:10])
        except ValueError:
            errors["week_start"] = ["Use a date as YYYY-MM-DD."]
        values = {}
        for column in ("mean", "p70", "p80", "p90"):
            try:
                values[column] = cell_decimal(row.get(column))
                if values[column] is None:
                    errors[column] = ["This field cannot be blank."]
            except ValidationError as exc:
                errors[column] = exc.messages
        try:
            asin_validate(asin)
        except ValidationError as exc:
            errors["asin"] = exc.messages
        forecast = AmazonForecast(tenant=tenant, asin=asin, source=source[:200], **values)
        if not errors:
            # One upsert cannot write the same (ASIN, week) twice.
            week_day = week.date() if isinstance(week, datetime) else week
            if (asin, week_day) in seen:
                errors["week_start"] = [f"ASIN {asin} week {week_day} appears twice in the file."]
            seen.add((asin, week_day))
        if not errors:
            forecast.week_start = week
            if not values["p70"] <= values["p80"] <= values["p90"]:
                errors["p90"] = ["Expect P70 <= P80 <= P90."]
            try:
                forecast.full_clean(
                    exclude=["tenant", *errors], validate_unique=False, validate_constraints=False
                )
            except ValidationError as exc:
                errors.update(exc.message_dict)
        results.append(RowResult(
            line=line, key=echo(f"{asin} {week}"), errors=errors,
            action=ImportAction.ERROR if errors else ImportAction.UPDATE,
        ))
        if not errors:
            valid.append(forecast)
    result = ImportResult(rows=results, applied=False)
    if dry_run or result.has_errors:
        return result
    AmazonForecast.objects.bulk_create(
        valid, update_conflicts=True, unique_fields=["tenant", "asin", "week_start"],
        update_fields=["mean", "p70", "p80", "p90", "source", "updated_at"],
    )
    result.applied = True
    return result


def forecast_import_file(*, tenant, dataset: tablib.Dataset, dry_run: bool = True, actor=None,
                         filename: str = "") -> ImportResult:
    """``forecast_import_dataset`` plus its audit entry when applied."""
    result = forecast_import_dataset(tenant=tenant, dataset=dataset, source=filename,
                                     dry_run=dry_run)
    if result.applied:
        audit_record(
            actor=actor, action=AuditAction.ACTION, object_type="inventory.AmazonForecast",
            object_repr=filename[:300],
            summary=f"Amazon forecast imported: {len(result.rows)} weeks",
        )
    return result


def forecast_import_dataset(*, tenant, dataset: tablib.Dataset, source: str = "",
                            dry_run: bool = False) -> ImportResult:
    missing = [c for c in FORECAST_COLUMNS if c not in dataset.headers]
    if missing:
        raise ApplicationError(MISSING_COLUMNS.format(columns=", ".join(missing)))
    rows = [dict(zip(dataset.headers, values, strict=False)) for values in dataset]
    return forecast_import(tenant=tenant, rows=rows, source=source, dry_run=dry_run)


INBOUND_COLUMNS = ["reference", "sku", "warehouse", "quantity", "expected_on"]
# A receipt further out than this is a typo (a year 2205), not a plan.
INBOUND_MAX_DAYS_AHEAD = 3 * 365


def _cell_date(value) -> date:
    """A date cell: an XLSX date or datetime, or text as YYYY-MM-DD."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(cell_text(value)[:10])
    except ValueError:
        raise ValidationError("Use a date as YYYY-MM-DD.") from None


@transaction.atomic
def inbound_supply_import(*, tenant, dataset: tablib.Dataset,
                          dry_run: bool = True) -> ImportResult:
    """Create or update expected receipts by (reference, SKU).

    All rows or none, as for products; re-importing the same file finds
    every row unchanged and writes nothing.
    """
    missing = [c for c in INBOUND_COLUMNS if c not in dataset.headers]
    if missing:
        raise ApplicationError(MISSING_COLUMNS.format(columns=", ".join(missing)))
    rows = [dict(zip(dataset.headers, values, strict=False)) for values in dataset]
    keys = [(cell_text(row.get("reference")), cell_text(row.get("sku"))) for row in rows]
    products = {p.sku: p for p in Product.objects.filter(
        tenant=tenant, sku__in={sku for _, sku in keys})}
    warehouses = {w.code: w for w in Warehouse.objects.filter(tenant=tenant)}
    existing = {
        (i.reference, i.product_id): i
        for i in InboundSupply.objects.filter(
            tenant=tenant, reference__in={ref for ref, _ in keys}, product__in=products.values())
    }
    latest = timezone.now().date() + timedelta(days=INBOUND_MAX_DAYS_AHEAD)
    results, to_create, to_update, seen = [], [], [], set()
    for line, ((reference, sku), row) in enumerate(zip(keys, rows, strict=True), start=2):
        errors, values = {}, {}
        if not reference:
            errors["reference"] = ["This field cannot be blank."]
        elif len(reference) > InboundSupply._meta.get_field("reference").max_length:
            errors["reference"] = ["A reference has at most 200 characters."]
        product = products.get(sku)
        if not sku:
            errors["sku"] = ["This field cannot be blank."]
        elif product is None:
            errors["sku"] = [f"Unknown SKU {echo(sku)}."]
        if (reference, sku) in seen:
            errors["reference"] = [
                f"Reference {echo(reference)} with SKU {echo(sku)} appears twice in the file."]
        seen.add((reference, sku))
        code = cell_text(row.get("warehouse"))
        if code not in warehouses:
            errors["warehouse"] = [f"Unknown warehouse {echo(code)}." if code
                                   else "This field cannot be blank."]
        values["warehouse"] = warehouses.get(code)
        try:
            values["quantity"] = cell_integer(row.get("quantity"), min_value=1,
                                              max_value=10_000_000)
            if values["quantity"] is None:
                errors["quantity"] = ["This field cannot be blank."]
        except ValidationError as exc:
            errors["quantity"] = exc.messages
        try:
            values["expected_on"] = _cell_date(row.get("expected_on"))
            if values["expected_on"] > latest:
                errors["expected_on"] = [f"Expect a date before {latest.isoformat()}."]
        except ValidationError as exc:
            errors["expected_on"] = exc.messages
        inbound = existing.get((reference, product.pk)) if product else None
        is_new = inbound is None
        if is_new:
            inbound = InboundSupply(tenant=tenant, reference=reference, product=product)
        changes = {}
        if not errors:
            for name, value in values.items():
                current = inbound.warehouse_id if name == "warehouse" else getattr(inbound, name)
                if current != getattr(value, "pk", value):
                    changes[name] = value
                    setattr(inbound, name, value)
            if not is_new and inbound.status != InboundStatus.OPEN:
                # Re-importing a received or cancelled line reopens it only
                # when its figures change; an unchanged file writes nothing.
                if changes:
                    changes["status"] = InboundStatus.OPEN
                    inbound.status = InboundStatus.OPEN
        action = import_row_action(
            errors=errors, is_new=is_new, changes=changes, instance=inbound,
            to_create=to_create, to_update=to_update,
        )
        results.append(RowResult(
            line=line, key=echo(f"{reference} {sku}"), action=action, errors=errors,
            changes={k: echo(getattr(v, "code", v), 100) for k, v in changes.items()},
        ))
    result = ImportResult(rows=results, applied=False)
    if dry_run or result.has_errors:
        return result
    InboundSupply.objects.bulk_create(to_create)
    if to_update:
        now = timezone.now()
        for inbound in to_update:
            inbound.updated_at = now
        InboundSupply.objects.bulk_update(
            to_update, ["warehouse", "quantity", "expected_on", "status", "updated_at"])
    touched = {i.product_id for i in (*to_create, *to_update)}
    if touched:
        atp_change_mark(tenant=tenant, product_ids=sorted(touched))
    result.applied = True
    return result


def inbound_supply_import_file(*, tenant, dataset: tablib.Dataset, dry_run: bool = True,
                               actor=None, filename: str = "") -> ImportResult:
    """``inbound_supply_import`` plus its audit entry when applied."""
    result = inbound_supply_import(tenant=tenant, dataset=dataset, dry_run=dry_run)
    if result.applied:
        audit_record(
            actor=actor, action=AuditAction.ACTION, object_type="inventory.InboundSupply",
            object_repr=filename[:300],
            summary=f"Inbound supply imported: {result.count(ImportAction.CREATE)} created, "
                    f"{result.count(ImportAction.UPDATE)} updated",
        )
    return result
