"""Row locks of the channels app, always taken in one fixed order.

Order: account -> purchase orders (by pk) -> their lines (by pk) ->
shipment -> submission. A service that needs several takes them in that
order, so two services can never wait on each other (deadlock 40P01).
"""

from __future__ import annotations

from channels.models import PurchaseOrder, PurchaseOrderLine, Shipment, Submission


def purchase_orders_lock(*, tenant, purchase_order_ids) -> list[PurchaseOrder]:
    """Lock POs by pk order; returns them with their accounts loaded."""
    return list(
        PurchaseOrder.objects.select_for_update(of=("self",))
        .select_related("account")
        .filter(tenant=tenant, pk__in=list(purchase_order_ids))
        .order_by("pk")
    )


def purchase_order_lock(*, tenant, purchase_order_id: int) -> PurchaseOrder | None:
    locked = purchase_orders_lock(tenant=tenant, purchase_order_ids=[purchase_order_id])
    return locked[0] if locked else None


def purchase_order_lines_lock(*, tenant, purchase_order_ids) -> list[PurchaseOrderLine]:
    """Lock the lines of POs already locked (parent before child)."""
    return list(
        PurchaseOrderLine.objects.select_for_update(of=("self",))
        .select_related("product")
        .filter(tenant=tenant, purchase_order_id__in=list(purchase_order_ids))
        .order_by("purchase_order_id", "item_sequence_number", "pk")
    )


def shipment_lock(*, tenant, shipment_id: int) -> Shipment | None:
    return (
        Shipment.objects.select_for_update(of=("self",))
        .select_related("account")
        .filter(tenant=tenant, pk=shipment_id)
        .first()
    )


def submission_lock(*, tenant, submission_id: int) -> Submission | None:
    return (
        Submission.objects.select_for_update(of=("self",))
        .select_related("account")
        .filter(tenant=tenant, pk=submission_id)
        .first()
    )
