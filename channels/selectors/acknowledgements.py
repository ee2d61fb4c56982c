"""Reads for the acknowledgement review queue."""

from __future__ import annotations

from django.db.models import Count, Prefetch, Q, QuerySet, Sum

from channels.models import (
    AckStatus,
    ChannelException,
    DocumentType,
    ExceptionKind,
    ExceptionStatus,
    PurchaseOrder,
    PurchaseOrderLine,
    Submission,
)

QUEUE_STATUSES = (AckStatus.REVIEW, AckStatus.BLOCKED, AckStatus.QUEUED, AckStatus.FAILED)


def ack_queue_list(*, tenant, filters: dict | None = None) -> QuerySet[PurchaseOrder]:
    """POs waiting on us, most urgent deadline first, with plan totals."""
    filters = filters or {}
    statuses = [filters["ack_status"]] if filters.get("ack_status") else QUEUE_STATUSES
    queryset = PurchaseOrder.objects.filter(tenant=tenant, ack_status__in=statuses)
    if filters.get("account"):
        queryset = queryset.filter(account_id=filters["account"])
    return (
        queryset.select_related("account")
        .annotate(
            line_count=Count("lines"),
            ordered_total=Sum("lines__ordered_quantity"),
            accept_total=Sum("lines__planned_accept"),
            backorder_total=Sum("lines__planned_backorder"),
            reject_total=Sum("lines__planned_reject"),
        )
        .order_by("ack_deadline_at", "id")
    )


def acknowledgement_review_get(*, tenant, purchase_order_id: int) -> PurchaseOrder | None:
    """One PO with its lines (and products) for the review form."""
    lines = PurchaseOrderLine.objects.filter(tenant=tenant).select_related("product").order_by(
        "item_sequence_number", "id"
    )
    return (
        PurchaseOrder.objects.filter(tenant=tenant, pk=purchase_order_id)
        .select_related("account")
        .prefetch_related(Prefetch("lines", queryset=lines))
        .first()
    )


def acknowledgement_submissions(*, tenant, purchase_order) -> QuerySet[Submission]:
    return Submission.objects.filter(
        tenant=tenant, account_id=purchase_order.account_id,
        document_type=DocumentType.ACKNOWLEDGEMENT, document_ref=purchase_order.number,
    ).order_by("-document_version", "-id")


def acknowledgement_overview_cards(*, tenant) -> list[dict]:
    """The home card's data: POs waiting on us and deadline alerts."""
    waiting = PurchaseOrder.objects.filter(tenant=tenant, ack_status__in=QUEUE_STATUSES).count()
    alerts = ChannelException.objects.filter(
        Q(kind=ExceptionKind.ACK_DEADLINE) | Q(kind=ExceptionKind.SUBMISSION_STALE)
        | Q(kind=ExceptionKind.OUTCOME_UNKNOWN) | Q(kind=ExceptionKind.SUBMISSION_FAILED),
        tenant=tenant, status=ExceptionStatus.OPEN,
    ).values("kind").annotate(count=Count("id"))
    by_kind = {row["kind"]: row["count"] for row in alerts}
    due = by_kind.get(ExceptionKind.ACK_DEADLINE, 0)
    troubled = sum(by_kind.values()) - due
    return [{
        "code": "acknowledgements_waiting", "value": waiting,
        "params": {"due": due, "troubled": troubled},
        "url_name": "channels:ack_queue",
        "tone": "warning" if due or troubled else "ok",
    }]
