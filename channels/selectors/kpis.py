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

Business periods (days, weeks, months) are the tenant's: they start at
local midnight in ``Tenant.timezone`` (STYLE.md §6), so a PO ordered at
23:30 UTC counts on the next day for a tenant in Asia/Shanghai.
``vendor_kpis`` takes exact instants; ``vendor_kpis_by_period`` takes
local dates and a granularity and still runs four queries in all.
"""

from __future__ import annotations

import bisect
import datetime
import enum
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.db.models import Case, IntegerField, Min, OuterRef, Q, Subquery, Sum, Value, When

from acorn.exceptions import ApplicationError
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
# Each period is one CASE branch in the line query: two years of days.
MAX_PERIODS = 750

TOO_MANY_PERIODS = "Choose a shorter range or a longer period: at most {limit} periods."
EMPTY_RANGE = "The end date must be after the start date."


class KpiGranularity(enum.StrEnum):
    DAY = "day"
    WEEK = "week"  # ISO weeks, Monday to Sunday
    MONTH = "month"


def tenant_zone(tenant) -> ZoneInfo:
    """The tenant's business timezone (UTC when unset or unknown)."""
    try:
        return ZoneInfo(tenant.timezone or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def tenant_today(*, tenant, now: datetime.datetime | None = None) -> datetime.date:
    moment = now or datetime.datetime.now(tz=datetime.UTC)
    return moment.astimezone(tenant_zone(tenant)).date()


def tenant_midnight(*, tenant, day: datetime.date) -> datetime.datetime:
    """The instant ``day`` begins in the tenant's timezone."""
    return datetime.datetime.combine(day, datetime.time(0, 0), tzinfo=tenant_zone(tenant))


def _next_start(day: datetime.date, granularity: KpiGranularity) -> datetime.date:
    if granularity == KpiGranularity.DAY:
        return day + datetime.timedelta(days=1)
    if granularity == KpiGranularity.WEEK:
        return day + datetime.timedelta(days=7)
    return (day.replace(day=28) + datetime.timedelta(days=4)).replace(day=1)


def _period_start(day: datetime.date, granularity: KpiGranularity) -> datetime.date:
    if granularity == KpiGranularity.WEEK:
        return day - datetime.timedelta(days=day.weekday())
    if granularity == KpiGranularity.MONTH:
        return day.replace(day=1)
    return day


def kpi_periods(
    *, start: datetime.date, end: datetime.date, granularity: str
) -> list[tuple[datetime.date, datetime.date]]:
    """Business periods covering [start, end): whole days, ISO weeks or
    calendar months, each as (first day, first day of the next)."""
    granularity = KpiGranularity(granularity)
    if end <= start:
        raise ApplicationError(EMPTY_RANGE)
    periods = []
    day = _period_start(start, granularity)
    while day < end:
        following = _next_start(day, granularity)
        periods.append((day, following))
        if len(periods) > MAX_PERIODS:
            raise ApplicationError(TOO_MANY_PERIODS.format(limit=MAX_PERIODS))
        day = following
    return periods


def kpi_periods_window(
    *, start: datetime.date, end: datetime.date, granularity: str, limit: int = MAX_PERIODS
) -> tuple[datetime.date, datetime.date | None]:
    """Where the first ``limit`` periods from ``start`` end (at most
    ``end``), and the first day of the next window (None when [start, end)
    fits), so a long range is read window by window instead of refused."""
    granularity = KpiGranularity(granularity)
    day = _period_start(start, granularity)
    for _ in range(limit):
        if day >= end:
            return end, None
        day = _next_start(day, granularity)
    return (day, day) if day < end else (end, None)


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
    """KPIs per account over one period of exact instants."""
    return _vendor_kpis(tenant=tenant, periods=[(period_start, period_end)],
                        account_id=account_id)


def vendor_kpis_by_period(
    *, tenant, start: datetime.date, end: datetime.date, granularity: str,
    account_id: int | None = None,
) -> list[VendorKpis]:
    """KPIs per business period (tenant-local days, weeks or months) and
    account, ordered by period then account; [start, end) is widened to
    whole periods."""
    periods = [
        (tenant_midnight(tenant=tenant, day=first), tenant_midnight(tenant=tenant, day=after))
        for first, after in kpi_periods(start=start, end=end, granularity=granularity)
    ]
    return _vendor_kpis(tenant=tenant, periods=periods, account_id=account_id)


def _vendor_kpis(*, tenant, periods: list[tuple[datetime.datetime, datetime.datetime]],
                 account_id: int | None) -> list[VendorKpis]:
    """Four queries for contiguous ``periods`` (ascending) and all accounts."""
    accounts = AmazonVendorAccount.objects.filter(tenant=tenant)
    if account_id is not None:
        accounts = accounts.filter(pk=account_id)
    names = list(accounts.order_by("name", "id").values_list("pk", "name"))
    if not names or not periods:
        return []
    result = {
        (index, pk): VendorKpis(account_id=pk, account_name=name, period_start=start,
                                period_end=end)
        for index, (start, end) in enumerate(periods)
        for pk, name in names
    }
    account_ids = [pk for pk, _name in names]
    period_start, period_end = periods[0][0], periods[-1][1]
    starts = [start for start, _end in periods]

    def period_of(instant: datetime.datetime) -> int:
        return bisect.bisect_right(starts, instant) - 1

    due = (
        PurchaseOrder.objects.filter(
            tenant=tenant, account_id__in=account_ids,
            ack_deadline_at__gte=period_start, ack_deadline_at__lt=period_end,
        )
        .exclude(ack_status=AckStatus.NOT_NEEDED)
        .annotate(first_sent=Min("events__occurred_at",
                                 filter=Q(events__kind=PurchaseOrderEventKind.ACK_SENT)))
        .values_list("account_id", "ack_deadline_at", "first_sent")
    )
    for account, deadline, first_sent in due:
        kpis = result[(period_of(deadline), account)]
        kpis.pos_due += 1
        if first_sent is not None:
            kpis.pos_acknowledged += 1
            if first_sent <= deadline:
                kpis.pos_acknowledged_on_time += 1
    # The period of each line, computed in the database: one row per
    # (account, period), not per line.
    period = Case(
        *(When(purchase_order__ordered_at__gte=start, purchase_order__ordered_at__lt=end,
               then=Value(index)) for index, (start, end) in enumerate(periods)),
        output_field=IntegerField(),
    )
    lines = (
        PurchaseOrderLine.objects.filter(
            tenant=tenant, purchase_order__account_id__in=account_ids,
            purchase_order__ordered_at__gte=period_start,
            purchase_order__ordered_at__lt=period_end,
        )
        .annotate(period=period)
        .values("purchase_order__account_id", "period")
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
        kpis = result[(row["period"], row["purchase_order__account_id"])]
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
            tenant=tenant, account_id__in=account_ids,
            shipped_at__gte=period_start, shipped_at__lt=period_end,
        )
        .annotate(asn_sent_at=Subquery(first_asn))
        .values_list("account_id", "shipped_at", "asn_sent_at")
    )
    for account, shipped_at, asn_sent_at in shipments:
        kpis = result[(period_of(shipped_at), account)]
        kpis.shipments += 1
        if asn_sent_at is not None and asn_sent_at - shipped_at <= ASN_WINDOW:
            kpis.asns_on_time += 1
    return list(result.values())
