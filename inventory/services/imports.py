"""Product and forecast imports from CSV/XLSX (tablib), with a dry run.

An import is all rows or none: any row error means nothing is written,
and the result lists every row's error. Re-importing the same file finds
every row unchanged and writes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation

import tablib
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from acorn.exceptions import ApplicationError
from inventory.models import AmazonForecast, Product, StockLevel, Supplier
from inventory.services.outbox import atp_change_mark

PRODUCT_COLUMNS = [
    "sku", "name", "gtin", "asin", "case_pack", "unit_size", "weight_grams", "hs_code",
    "country_of_origin", "is_lot_tracked", "safety_stock", "supplier_code", "moq_units",
]
FORECAST_COLUMNS = ["asin", "week_start", "mean", "p70", "p80", "p90"]
# A file beyond this is refused before parsing: 20k rows of catalog fit in
# a few MB, and one request parses them in well under a second.
MAX_ROWS = 20_000
UNREADABLE = "The file could not be read as {format}."
TOO_MANY_ROWS = "The file has more than {max} rows; split it."
MISSING_COLUMNS = "Missing columns: {columns}."
TRUE_WORDS = {"1", "true", "yes", "y", "x"}


class ImportAction:
    CREATE = "create"
    UPDATE = "update"
    UNCHANGED = "unchanged"
    ERROR = "error"


@dataclass
class RowResult:
    line: int
    key: str
    action: str
    errors: dict = field(default_factory=dict)
    changes: dict = field(default_factory=dict)


@dataclass
class ImportResult:
    rows: list[RowResult]
    applied: bool

    @property
    def has_errors(self) -> bool:
        return any(row.action == ImportAction.ERROR for row in self.rows)

    def count(self, action: str) -> int:
        return sum(1 for row in self.rows if row.action == action)


def import_row_action(*, errors, is_new, changes, instance, to_create, to_update) -> str:
    """Classify one checked import row and queue its instance for writing:
    a row with errors writes nothing; new rows are created, changed rows
    updated, the rest left alone (so a re-import writes nothing)."""
    if errors:
        return ImportAction.ERROR
    if is_new:
        to_create.append(instance)
        return ImportAction.CREATE
    if changes:
        to_update.append(instance)
        return ImportAction.UPDATE
    return ImportAction.UNCHANGED


def dataset_load(*, content: bytes, filename: str) -> tablib.Dataset:
    """A tablib dataset from an uploaded CSV or XLSX file."""
    file_format = "xlsx" if filename.lower().endswith(".xlsx") else "csv"
    try:
        if file_format == "csv":
            dataset = tablib.Dataset().load(content.decode("utf-8-sig"), format="csv")
        else:
            dataset = tablib.Dataset().load(content, format="xlsx")
    except Exception as exc:  # noqa: BLE001 - tablib raises many kinds
        raise ApplicationError(UNREADABLE.format(format=file_format.upper())) from exc
    if dataset.height > MAX_ROWS:
        raise ApplicationError(TOO_MANY_ROWS.format(max=MAX_ROWS))
    dataset.headers = [str(h or "").strip().lower() for h in (dataset.headers or [])]
    return dataset


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def _integer(value, default=None):
    text = _text(value)
    if text == "":
        return default
    try:
        number = Decimal(text)
    except InvalidOperation:
        raise ValidationError("Enter a whole number.") from None
    if number != number.to_integral_value():
        raise ValidationError("Enter a whole number.")
    return int(number)


def _decimal(value, default=None):
    text = _text(value)
    if text == "":
        return default
    try:
        return Decimal(text)
    except InvalidOperation:
        raise ValidationError("Enter a number.") from None


def _product_values(row: dict, suppliers: dict) -> tuple[dict, dict]:
    """Parsed field values of one row, and its errors per column."""
    values, errors = {}, {}
    parsers = {
        "name": _text, "gtin": _text, "asin": lambda v: _text(v).upper(),
        "case_pack": lambda v: _integer(v, 1), "unit_size": _text,
        "weight_grams": _decimal, "hs_code": lambda v: _text(v).replace(".", ""),
        "country_of_origin": lambda v: _text(v).upper(),
        "is_lot_tracked": lambda v: _text(v).lower() in TRUE_WORDS,
        "safety_stock": lambda v: _integer(v, 0), "moq_units": _integer,
    }
    for column, parse in parsers.items():
        if column not in row:
            continue
        try:
            values[column] = parse(row[column])
        except ValidationError as exc:
            errors[column] = exc.messages
    if "supplier_code" in row:
        code = _text(row["supplier_code"])
        if code and code not in suppliers:
            errors["supplier_code"] = [f"Unknown supplier {code}."]
        values["supplier"] = suppliers.get(code) if code else None
    return values, errors


@transaction.atomic
def product_import(*, tenant, dataset: tablib.Dataset, dry_run: bool = True) -> ImportResult:
    """Create or update products by SKU; returns what each row does."""
    missing = [c for c in ("sku", "name") if c not in dataset.headers]
    if missing:
        raise ApplicationError(MISSING_COLUMNS.format(columns=", ".join(missing)))
    rows = [dict(zip(dataset.headers, values, strict=False)) for values in dataset]
    skus = [_text(row.get("sku")) for row in rows]
    existing = {p.sku: p for p in Product.objects.filter(tenant=tenant, sku__in=set(skus))}
    suppliers = {s.code: s for s in Supplier.objects.filter(tenant=tenant)}
    results, to_create, to_update, seen = [], [], [], set()
    for line, (sku, row) in enumerate(zip(skus, rows, strict=True), start=2):
        values, errors = _product_values(row, suppliers)
        if not sku:
            errors["sku"] = ["This field cannot be blank."]
        elif sku in seen:
            errors["sku"] = [f"SKU {sku} appears twice in the file."]
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
            line=line, key=sku, action=action, errors=errors,
            changes={k: str(v) if v is not None else "" for k, v in changes.items()},
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


def product_export_dataset(*, tenant) -> tablib.Dataset:
    """Every product in the import's own columns (a round trip is a no-op)."""
    dataset = tablib.Dataset(headers=PRODUCT_COLUMNS)
    for p in Product.objects.filter(tenant=tenant).select_related("supplier").order_by("sku", "id"):
        dataset.append([
            p.sku, p.name, p.gtin, p.asin, p.case_pack, p.unit_size,
            "" if p.weight_grams is None else str(p.weight_grams), p.hs_code,
            p.country_of_origin, "yes" if p.is_lot_tracked else "no", p.safety_stock,
            p.supplier.code if p.supplier else "", "" if p.moq_units is None else p.moq_units,
        ])
    return dataset


@transaction.atomic
def forecast_import(
    *, tenant, rows: list[dict], source: str = "", dry_run: bool = False
) -> ImportResult:
    """Upsert Amazon forecast weeks: ``{asin, week_start, mean, p70, p80, p90}``.

    The latest import of an (ASIN, week) replaces the previous one. All
    rows or none, as for products.
    """
    results, valid = [], []
    for line, row in enumerate(rows, start=2):
        errors = {}
        asin = _text(row.get("asin")).upper()
        week = row.get("week_start")
        try:
            week = week if isinstance(week, date) else date.fromisoformat(_text(week)[:10])
        except ValueError:
            errors["week_start"] = ["Use a date as YYYY-MM-DD."]
        values = {}
        for column in ("mean", "p70", "p80", "p90"):
            try:
                values[column] = _decimal(row.get(column))
                if values[column] is None:
                    errors[column] = ["This field cannot be blank."]
            except ValidationError as exc:
                errors[column] = exc.messages
        forecast = AmazonForecast(tenant=tenant, asin=asin, source=source[:200], **values)
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
            line=line, key=f"{asin} {week}", errors=errors,
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


def forecast_import_dataset(*, tenant, dataset: tablib.Dataset, source: str = "",
                            dry_run: bool = False) -> ImportResult:
    missing = [c for c in FORECAST_COLUMNS if c not in dataset.headers]
    if missing:
        raise ApplicationError(MISSING_COLUMNS.format(columns=", ".join(missing)))
    rows = [dict(zip(dataset.headers, values, strict=False)) for values in dataset]
    return forecast_import(tenant=tenant, rows=rows, source=source, dry_run=dry_run)
