"""Vendor KPIs from our own records, per Amazon account and period.

One selector serves the dashboard page and the BI API. Four queries for
any number of accounts:

- PO confirmation rate: POs acknowledged (an ACK_SENT event) / POs whose
  acknowledgement fell due in the period (not cancelled: NOT_NEEDED).
- On-time acknowledgement rate: POs whose first acknowledgement left
  before their deadline / POs due.
- Fill rate: units accepted / units ordered (POs ordered in the period);
  receipt rate: units Amazon received / units shipped, on lines Amazon
  has reported receiving.
- ASN timeliness: shipments whose first ASN left within 30 minutes of
  the shipped date / shipments shipped in the period.

Rates are Decimals rounded to 4 places, None when nothing was due.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Min, OuterRef, Q, Subquery, Sum

from channels.models import (
    AckStatus,
    AmazonVendorAccount,
    DocumentType,
    PurchaseOrder,
    PurchaseOrderEventKind,
    PurchaseOrderLine,
    Shipment,
    Submission,
)

ASN_WINDOW = datetime.timedelta(minutes=30)
RATE_PLACES = Decimal("0.0001")


@dataclass
class VendorKpis:
    account_id: int
    account_name: str
    period_start: datetime.datetime
    period_end: datetime.datetime
    pos_due: int = 0
    pos_acknowledged: int = 0
    pos_acknowledged_on_time: int = 0
    units_ordered: int = 0
    units_accepted: int = 0
    units_shipped_reported: int = 0
    units_received: int = 0
    shipments: int = 0
    asns_on_time: int = 0

    @staticmethod
    def _rate(part: int, whole: int) -> Decimal | None:
        if not whole:
            return None
        return (Decimal(part) / Decimal(whole)).quantize(RATE_PLACES, ROUND_HALF_UP)

    @property
    def confirmation_rate(self):
        return self._rate(self.pos_acknowledged, self.pos_due)

    @property
    def on_time_acknowledgement_rate(self):
        return self._rate(self.pos_acknowledged_on_time, self.pos_due)

    @property
    def fill_rate(self):
        return self._rate(self.units_accepted, self.units_ordered)

    @property
    def receipt_rate(self):
        return self._rate(self.units_received, self.units_shipped_reported)

    @property
    def asn_timeliness_rate(self):
        return self._rate(self.asns_on_time, self.shipments)


def vendor_kpis(
    *, tenant, period_start: datetime.datetime, period_end: datetime.datetime,
    account_id: int | None = None,
) -> list[VendorKpis]:
    accounts = AmazonVendorAccount.objects.filter(tenant=tenant)
    if account_id is not None:
        accounts = accounts.filter(pk=account_id)
    result = {
        pk: VendorKpis(account_id=pk, account_name=name, period_start=period_start,
                       period_end=period_end)
        for pk, name in accounts.order_by("name", "id").values_list("pk", "name")
    }
    if not result:
        return []
    due = (
        PurchaseOrder.objects.filter(
            tenant=tenant, account_id__in=list(result),
            ack_deadline_at__gte=period_start, ack_deadline_at__lt=period_end,
        )
        .exclude(ack_status=AckStatus.NOT_NEEDED)
        .annotate(first_sent=Min("events__occurred_at",
                                 filter=Q(events__kind=PurchaseOrderEventKind.ACK_SENT)))
        .values_list("account_id", "ack_deadline_at", "first_sent")
    )
    for account, deadline, first_sent in due:
        kpis = result[account]
        kpis.pos_due += 1
        if first_sent is not None:
            kpis.pos_acknowledged += 1
            if first_sent <= deadline:
                kpis.pos_acknowledged_on_time += 1
    lines = (
        PurchaseOrderLine.objects.filter(
            tenant=tenant, purchase_order__account_id__in=list(result),
            purchase_order__ordered_at__gte=period_start,
            purchase_order__ordered_at__lt=period_end,
        )
        .values("purchase_order__account_id")
        .annotate(
            ordered=Sum("ordered_quantity"),
            accepted=Sum("planned_accept", filter=Q(
                purchase_order__ack_status__in=(AckStatus.SUBMITTED, AckStatus.ACCEPTED))),
            shipped=Sum("shipped_quantity", filter=Q(received_quantity__isnull=False)),
            received=Sum("received_quantity"),
        )
        .order_by()
    )
    for row in lines:
        kpis = result[row["purchase_order__account_id"]]
        kpis.units_ordered = row["ordered"] or 0
        kpis.units_accepted = row["accepted"] or 0
        kpis.units_shipped_reported = row["shipped"] or 0
        kpis.units_received = row["received"] or 0
    first_asn = (
        Submission.objects.filter(
            tenant=tenant, account_id=OuterRef("account_id"),
            document_type=DocumentType.SHIPMENT_CONFIRMATION,
            document_ref=OuterRef("shipment_identifier"), sent_at__isnull=False,
        )
        .order_by("sent_at")
        .values("sent_at")[:1]
    )
    shipments = (
        Shipment.objects.filter(
            tenant=tenant, account_id__in=list(result),
            shipped_at__gte=period_start, shipped_at__lt=period_end,
        )
        .annotate(asn_sent_at=Subquery(first_asn))
        .values_list("account_id", "shipped_at", "asn_sent_at")
    )
    for account, shipped_at, asn_sent_at in shipments:
        kpis = result[account]
        kpis.shipments += 1
        if asn_sent_at is not None and asn_sent_at - shipped_at <= ASN_WINDOW:
            kpis.asns_on_time += 1
    return list(result.values())
