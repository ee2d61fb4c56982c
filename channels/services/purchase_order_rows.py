"""The PO sync's row statements on databases without PostgreSQL's bulk SQL.

``purchase_order_pages`` writes a page with one set-based PostgreSQL
statement per table (``json_to_recordset``, ``LATERAL``, ``ON CONFLICT``).
The embedded demo runs on SQLite, which has none of that, so the same six
operations are also written here with the ORM, row by row: identical
inputs and outputs, identical rules (what is overwritten, what our side
keeps, which conflicts are ignored). A demo account's pages are small; the
benchmark and production use the PostgreSQL statements.
"""

from __future__ import annotations

import datetime
from decimal import Decimal

from channels.models import (
    ChannelException,
    PurchaseOrder,
    PurchaseOrderEvent,
    PurchaseOrderLine,
)

# The PO columns Amazon owns: overwritten on every change.
_AMAZON_PO_FIELDS = (
    "state", "order_type", "ordered_at", "amazon_changed_at", "state_changed_at",
    "ship_window_start", "ship_window_end", "delivery_window_start", "delivery_window_end",
    "selling_party_id", "ship_to_party_id", "ship_to", "bill_to", "buying_party",
    "payment_method", "deal_code", "import_details", "currency", "total_cost",
    "content_hash", "has_unmapped_lines",
)
_TIME_FIELDS = {
    "ordered_at", "amazon_changed_at", "state_changed_at", "ship_window_start",
    "ship_window_end", "delivery_window_start", "delivery_window_end",
}


def _time(value: str | None) -> datetime.datetime | None:
    return datetime.datetime.fromisoformat(value) if value else None


def _po_fields(row: dict) -> dict:
    fields = {name: row[name] for name in _AMAZON_PO_FIELDS}
    for name in _TIME_FIELDS:
        fields[name] = _time(fields[name])
    fields["total_cost"] = Decimal(fields["total_cost"])
    return fields


def existing_rows(*, tenant, account, numbers) -> list[tuple]:
    return list(
        PurchaseOrder.objects.filter(tenant=tenant, account=account, number__in=list(numbers))
        .values_list("number", "id", "content_hash", "state", "ack_status", "amazon_changed_at")
    )


def purchase_orders_upsert(*, tenant, account, now, rows, deadline_hours, not_acked) -> dict:
    """Upsert PO rows; returns {number: id}. Our ack_status is kept once
    sent, and an Amazon change then flags ``changed_after_ack``."""
    stored = {
        po.number: po
        for po in PurchaseOrder.objects.filter(
            tenant=tenant, account=account, number__in=[row["number"] for row in rows]
        )
    }
    ids = {}
    for row in rows:
        fields = _po_fields(row)
        po = stored.get(row["number"])
        if po is None:
            po = PurchaseOrder(
                tenant=tenant, account=account, number=row["number"], amazon_status="",
                ack_status=row["ack_status"], ack_version=0, changed_after_ack=False,
                ack_deadline_at=fields["ordered_at"] + datetime.timedelta(hours=deadline_hours),
                created_at=now, updated_at=now, **fields,
            )
            po.save(force_insert=True)
        else:
            if po.ack_status in not_acked:
                po.ack_status = row["ack_status"]
            elif (
                fields["amazon_changed_at"] is not None
                and fields["amazon_changed_at"] != po.amazon_changed_at
            ):
                po.changed_after_ack = True
            for name, value in fields.items():
                setattr(po, name, value)
            po.updated_at = now
            po.save()
        ids[po.number] = po.pk
    return ids


def previous_lines(*, tenant, purchase_order_ids) -> list[tuple]:
    return list(
        PurchaseOrderLine.objects.filter(
            tenant=tenant, purchase_order_id__in=list(purchase_order_ids)
        ).values_list(
            "purchase_order_id", "item_sequence_number", "ordered_quantity", "cancelled_quantity"
        )
    )


def lines_upsert(*, tenant, now, rows) -> None:
    """Amazon's line columns are overwritten; our plan columns are kept."""
    for row in rows:
        PurchaseOrderLine.objects.update_or_create(
            tenant=tenant,
            purchase_order_id=row["po"],
            item_sequence_number=row["seq"],
            defaults={
                "asin": row["asin"],
                "vendor_product_id": row["vendor_product_id"],
                "ordered_quantity": row["ordered"],
                "order_unit": row["order_unit"],
                "unit_size": row["unit_size"],
                "is_backorder_allowed": row["backorder"],
                "net_cost": None if row["net_cost"] is None else Decimal(row["net_cost"]),
                "list_price": None if row["list_price"] is None else Decimal(row["list_price"]),
                "currency": row["currency"],
                "product_id": row["product"],
                "units_per_order_unit": row["units"],
                "cancelled_quantity": row["cancelled"],
                "updated_at": now,
            },
        )


def events_insert(*, tenant, rows) -> None:
    """One event per (PO, dedupe key): a replayed fact is ignored."""
    for row in rows:
        PurchaseOrderEvent.objects.get_or_create(
            tenant=tenant,
            purchase_order_id=row["po"],
            dedupe_key=row["key"],
            defaults={
                "kind": row["kind"], "occurred_at": _time(row["at"]),
                "detail": row["detail"], "actor_label": "amazon",
            },
        )


def exceptions_insert(*, tenant, account, kind, status, rows) -> None:
    """One open exception per (kind, subject): an open one is left as is."""
    for row in rows:
        if ChannelException.objects.filter(
            tenant=tenant, kind=kind, subject_key=row["subject"], status=status
        ).exists():
            continue
        ChannelException.objects.create(
            tenant=tenant, account=account, kind=kind, status=status,
            subject_key=row["subject"], purchase_order_id=row["po"],
            message=row["message"], detail=row["detail"],
        )
