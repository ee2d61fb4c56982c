"""Demand history, and the purchase plan built from it and the forecast.

The method, kept simple so ops can check it by hand:

- Weekly demand D: for products with an ASIN and Amazon forecast weeks
  ahead, the mean of the forecast's weekly ``mean`` over the lead time,
  plus the other channels' average weekly history; otherwise the average
  weekly demand of all channels over the last HISTORY_WEEKS weeks.
- Variability sigma (units/week): the standard deviation of weekly
  history; for the forecast part, (P90 - mean) / 1.2816 (the normal
  quantile of P90), combined as the root of the summed variances.
- Lead time L weeks from the supplier (default DEFAULT_LEAD_TIME_DAYS).
- Safety stock SS = z * sigma * sqrt(L) with z = 1.645 (95% cycle service).
- Reorder point ROP = D * L + SS.
- Stock position P = on hand + open inbound - held - reserved.
- Order when P <= ROP: quantity = ROP + D * REVIEW_WEEKS - P, rounded up
  to the case pack, at least the MOQ. The date is today when P <= ROP,
  otherwise today + (P - ROP) / D weeks (when demand is 0: no date).
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta
from decimal import ROUND_CEILING, Decimal

from django.db import IntegrityError, transaction
from django.db.models import Sum
from django.utils import timezone

from acorn.exceptions import ApplicationError, NotFoundError
from acorn.messages import message_store
from acorn.models import AuditAction
from acorn.services import audit_record, audit_snapshot
from acorn.tenancy import tenant_scope
from inventory import message_codes as messages
from inventory.models import (
    AmazonForecast,
    DemandEvent,
    InboundStatus,
    InboundSupply,
    PlanStatus,
    PurchasePlanLine,
    StockLevel,
)
from inventory.services.stock import actor_label, product_resolve

HISTORY_WEEKS = 12
REVIEW_WEEKS = 4  # one order covers four weeks after the reorder point
SERVICE_Z = Decimal("1.645")
P90_Z = Decimal("1.2816")
DEFAULT_LEAD_TIME_DAYS = 30
AMAZON_CHANNEL = "amazon_vendor"
PLACES = Decimal("0.0001")


@transaction.atomic
def demand_record(
    *,
    tenant,
    product,
    channel: str,
    quantity: int,
    occurred_on: date,
    idempotency_key: str,
    source_type: str = "",
    source_ref: str = "",
) -> DemandEvent:
    """Record demand (a shipped PO line, a store order line); replay-safe.

    Negative quantities correct earlier demand (a cancelled order).
    """
    if not idempotency_key:
        raise ApplicationError("An idempotency key is required.")
    existing = DemandEvent.objects.filter(tenant=tenant, idempotency_key=idempotency_key).first()
    if existing:
        return existing
    product = product_resolve(tenant=tenant, ref=product)
    event = DemandEvent(
        tenant=tenant, product=product, channel=channel, quantity=quantity,
        occurred_on=occurred_on, source_type=source_type, source_ref=source_ref,
        idempotency_key=idempotency_key,
    )
    event.full_clean(exclude=["tenant", "product"], validate_unique=False)
    try:
        with transaction.atomic():
            event.save()
    except IntegrityError:
        return DemandEvent.objects.get(tenant=tenant, idempotency_key=idempotency_key)
    return event


def _week_start(day: date) -> date:
    return day - timedelta(days=day.weekday())


def _std(values: list[Decimal]) -> Decimal:
    if len(values) < 2:
        return Decimal("0")
    mean = sum(values) / len(values)
    variance = sum((v - mean) ** 2 for v in values) / (len(values) - 1)
    return variance.sqrt()


def plan_compute(
    *, product, level, inbound: int, history: dict[str, list[Decimal]],
    forecast: list[AmazonForecast], today: date,
) -> dict:
    """One product's plan as field values, with the reasoning spelled out."""
    lead_days = product.supplier.lead_time_days if product.supplier else DEFAULT_LEAD_TIME_DAYS
    lead_weeks = Decimal(lead_days) / 7
    total_history = [sum(week) for week in zip(*history.values(), strict=True)] or [
        Decimal(0)
    ] * HISTORY_WEEKS
    reasons = []
    horizon = [f for f in forecast if f.week_start < today + timedelta(days=max(lead_days, 7))]
    if horizon:
        amazon = sum(f.mean for f in horizon) / len(horizon)
        amazon_sigma = sum((f.p90 - f.mean) / P90_Z for f in horizon) / len(horizon)
        others = {c: w for c, w in history.items() if c != AMAZON_CHANNEL}
        other_weeks = [sum(week) for week in zip(*others.values(), strict=True)] or [Decimal(0)]
        other = sum(other_weeks) / len(other_weeks)
        demand = amazon + other
        sigma = (amazon_sigma ** 2 + _std(other_weeks) ** 2).sqrt()
        reasons.append(message_store(
            messages.DEMAND_FORECAST, demand=f"{demand:.1f}", amazon=f"{amazon:.1f}",
            weeks=len(horizon), other=f"{other:.1f}"))
    else:
        demand = sum(total_history) / len(total_history)
        sigma = _std(total_history)
        reasons.append(message_store(
            messages.DEMAND_HISTORY, demand=f"{demand:.1f}", weeks=HISTORY_WEEKS))
    safety = int((SERVICE_Z * sigma * lead_weeks.sqrt()).to_integral_value(ROUND_CEILING))
    reorder_point = int((demand * lead_weeks).to_integral_value(ROUND_CEILING)) + safety
    position = level.on_hand + inbound - level.held - level.reserved
    reasons.append(message_store(
        messages.SAFETY_STOCK, sigma=f"{sigma:.1f}", lead_days=lead_days, safety=safety,
        lead_weeks=f"{lead_weeks:.2f}", reorder_point=reorder_point, demand=f"{demand:.1f}"))
    reasons.append(message_store(
        messages.POSITION, position=position, on_hand=level.on_hand, inbound=inbound,
        held=level.held, reserved=level.reserved))
    quantity, order_on = 0, None
    if position <= reorder_point and (demand > 0 or position < reorder_point):
        raw = reorder_point + demand * REVIEW_WEEKS - position
        # The product's own case pack wins; else the supplier's carton.
        pack = product.case_pack if product.case_pack > 1 else (
            product.supplier.case_pack if product.supplier else 1
        )
        quantity = int((raw / pack).to_integral_value(ROUND_CEILING)) * pack
        moq = product.moq_units if product.moq_units is not None else (
            product.supplier.moq_units if product.supplier else 0
        )
        quantity = max(quantity, moq)
        order_on = today
        reasons.append(message_store(
            messages.ORDER_NOW, quantity=quantity, weeks=REVIEW_WEEKS, pack=pack, moq=moq))
    elif demand > 0:
        weeks = (Decimal(position - reorder_point) / demand).to_integral_value(ROUND_CEILING)
        order_on = today + timedelta(weeks=int(weeks))
        reasons.append(message_store(messages.ORDER_LATER, weeks=weeks))
    else:
        reasons.append(message_store(messages.NO_DEMAND))
    return {
        "weekly_demand": demand.quantize(PLACES), "weekly_sigma": sigma.quantize(PLACES),
        "lead_time_days": lead_days, "safety_stock": safety, "reorder_point": reorder_point,
        "stock_position": position, "suggested_quantity": quantity,
        "suggested_order_on": order_on,
        "reasoning": "\n".join(english for _code, _params, english in reasons),
        "reasoning_messages": [{"code": code, "params": params}
                               for code, params, _english in reasons],
    }


@transaction.atomic
def purchase_plan_refresh(*, tenant, today: date | None = None, actor=None) -> int:
    """Recompute every active product's plan line (a fixed number of queries).

    A line whose suggestion changed goes back to "proposed" for review.
    """
    today = today or timezone.now().date()
    first_week = _week_start(today) - timedelta(weeks=HISTORY_WEEKS)
    levels = list(
        StockLevel.objects.filter(tenant=tenant, product__is_active=True)
        .select_related("product", "product__supplier")
    )
    history: dict[int, dict[str, list[Decimal]]] = defaultdict(dict)
    for product_id, channel, occurred_on, quantity in DemandEvent.objects.filter(
        tenant=tenant, occurred_on__gte=first_week, occurred_on__lt=_week_start(today)
    ).values_list("product_id", "channel", "occurred_on", "quantity"):
        weeks = history[product_id].setdefault(channel, [Decimal(0)] * HISTORY_WEEKS)
        weeks[(_week_start(occurred_on) - first_week).days // 7] += quantity
    forecasts = defaultdict(list)
    for forecast in AmazonForecast.objects.filter(
        tenant=tenant, week_start__gte=_week_start(today)
    ).order_by("week_start"):
        forecasts[forecast.asin].append(forecast)
    inbound = dict(
        InboundSupply.objects.filter(tenant=tenant, status=InboundStatus.OPEN)
        .values("product_id").annotate(total=Sum("quantity")).values_list("product_id", "total")
    )
    existing = {line.product_id: line for line in PurchasePlanLine.objects.filter(tenant=tenant)}
    lines = []
    for level in levels:
        product = level.product
        values = plan_compute(
            product=product, level=level, inbound=inbound.get(product.pk, 0),
            history=history.get(product.pk, {}),
            forecast=forecasts.get(product.asin, []) if product.asin else [], today=today,
        )
        line = existing.get(product.pk) or PurchasePlanLine(tenant=tenant, product=product)
        if (line.suggested_quantity, line.suggested_order_on) != (
            values["suggested_quantity"], values["suggested_order_on"]
        ):
            line.status = PlanStatus.PROPOSED
            line.reviewed_by_label = ""
        for name, value in values.items():
            setattr(line, name, value)
        lines.append(line)
    fields = [
        "weekly_demand", "weekly_sigma", "lead_time_days", "safety_stock", "reorder_point",
        "stock_position", "suggested_quantity", "suggested_order_on", "reasoning",
        "reasoning_messages", "status",
        "reviewed_by_label", "updated_at",
    ]
    now = timezone.now()
    for line in lines:
        line.updated_at = now
    PurchasePlanLine.objects.bulk_create([line for line in lines if line.pk is None])
    PurchasePlanLine.objects.bulk_update([line for line in lines if line.pk], fields)
    with tenant_scope(tenant):
        audit_record(actor=actor, action=AuditAction.ACTION,
                     object_type="inventory.PurchasePlanLine",
                     summary=f"Purchase plan refreshed ({len(lines)} products)")
    return len(lines)


@transaction.atomic
def purchase_plan_review(*, tenant, line_id: int, status: str, actor=None) -> PurchasePlanLine:
    """Approve or dismiss a suggestion (ops review)."""
    if status not in PlanStatus.values:
        raise ApplicationError(f"Unknown status {status!r}.")
    line = PurchasePlanLine.objects.filter(tenant=tenant, pk=line_id).first()
    if line is None:
        raise NotFoundError("No such plan line.")
    before = audit_snapshot(line)
    line.status = status
    line.reviewed_by_label = actor_label(actor)
    line.save(update_fields=["status", "reviewed_by_label", "updated_at"])
    with tenant_scope(tenant):
        audit_record(actor=actor, action=AuditAction.UPDATE, instance=line, before=before,
                     after=audit_snapshot(line), summary=f"Plan line {status}")
    return line
