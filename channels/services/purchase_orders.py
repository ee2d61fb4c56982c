"""PO sync from Amazon: getPurchaseOrders and getPurchaseOrdersStatus.

``purchase_orders_sync`` asks for the POs created and changed since the
account's high-water mark (minus an overlap, so a late write at Amazon is
never skipped), all 7-day windows and all pages. Each page is upserted in
one transaction with a handful of bulk statements:

- a PO whose canonical JSON hash is unchanged is skipped (a re-sync of
  unchanged data writes nothing);
- POs and lines are upserted by their unique keys (INSERT .. ON CONFLICT
  DO UPDATE), events and exceptions are inserted ON CONFLICT DO NOTHING
  under deterministic dedupe keys, so two workers syncing the same
  account at once yield one PO and no duplicate facts;
- lines are mapped through SkuMapping; a PO with an unmapped (non-zero)
  line is BLOCKED and gets one UNMAPPED_LINE exception per line; other POs
  are handed to acknowledgement planning after commit.
"""

from __future__ import annotations

import datetime
import hashlib
import json
import logging
from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from acorn.money import MONEY_DECIMAL_PLACES
from channels.models import (
    AccountStatus,
    AckStatus,
    AmazonVendorAccount,
    ApiCallLog,
    ChannelException,
    ExceptionKind,
    ExceptionStatus,
    OrderUnit,
    PurchaseOrder,
    PurchaseOrderEvent,
    PurchaseOrderEventKind,
    PurchaseOrderLine,
    PurchaseOrderState,
    SkuMapping,
    SyncKind,
)
from channels.services.exceptions import channel_exception_open, channel_exceptions_resolve
from channels.services.runs import sync_run_fail, sync_run_finish, sync_run_start
from vendor_api.errors import ReauthorizationRequired, SpApiError
from vendor_api.operations.orders import MAX_PAGE_SIZE, split_windows

logger = logging.getLogger(__name__)

# Re-read this much before the stored high-water mark: Amazon's clocks and
# replication can make a change visible a little after its timestamp.
SYNC_OVERLAP = datetime.timedelta(minutes=10)
# Our acknowledgement has not left yet: a change can simply be re-planned.
NOT_YET_ACKNOWLEDGED = frozenset({AckStatus.PENDING, AckStatus.BLOCKED, AckStatus.REVIEW})
MONEY_QUANTUM = Decimal(1).scaleb(-MONEY_DECIMAL_PLACES)

PO_AMAZON_FIELDS = [
    "state", "order_type", "ordered_at", "amazon_changed_at", "state_changed_at",
    "ship_window_start", "ship_window_end", "delivery_window_start", "delivery_window_end",
    "selling_party_id", "ship_to_party_id", "ship_to", "bill_to", "buying_party",
    "payment_method", "deal_code", "import_details", "currency", "total_cost",
    "content_hash", "has_unmapped_lines", "updated_at",
]
LINE_AMAZON_FIELDS = [
    "asin", "vendor_product_id", "ordered_quantity", "order_unit", "unit_size",
    "is_backorder_allowed", "net_cost", "list_price", "currency", "product",
    "units_per_order_unit", "cancelled_quantity", "updated_at",
]


def content_hash(raw: dict) -> str:
    """SHA-256 of the canonical JSON of one order as Amazon sent it."""
    canonical = json.dumps(raw, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


@dataclass
class MappingIndex:
    """An account's active mappings by ASIN and by vendor product id."""

    by_asin: dict[str, tuple[int, int]] = field(default_factory=dict)
    by_vendor_product: dict[str, tuple[int, int]] = field(default_factory=dict)

    def resolve(self, *, asin: str, vendor_product_id: str) -> tuple[int, int] | None:
        """(product id, units per order unit), or None when unmapped."""
        if asin and asin in self.by_asin:
            return self.by_asin[asin]
        if vendor_product_id and vendor_product_id in self.by_vendor_product:
            return self.by_vendor_product[vendor_product_id]
        return None


def mapping_index_load(*, tenant, account) -> MappingIndex:
    index = MappingIndex()
    rows = SkuMapping.objects.filter(tenant=tenant, account=account, is_active=True).values_list(
        "asin", "vendor_product_id", "product_id", "units_per_order_unit"
    )
    for asin, vendor_product_id, product_id, units in rows:
        index.by_asin[asin] = (product_id, units)
        if vendor_product_id:
            index.by_vendor_product[vendor_product_id] = (product_id, units)
    return index


def _party_json(raw_details: dict, name: str) -> dict:
    return raw_details.get(name) or {}


def _money_amount(money) -> Decimal | None:
    return money.amount if money is not None else None


def _po_from_order(*, tenant, account, order, digest: str) -> PurchaseOrder:
    details = order.raw.get("orderDetails") or {}
    ordered_at = order.purchase_order_date or timezone.now()
    currency = ""
    total = Decimal("0")
    for item in order.items:
        if item.net_cost is not None:
            currency = currency or item.net_cost.currency_code
            quantity = item.ordered_quantity.amount if item.ordered_quantity else 0
            total += item.net_cost.amount * quantity
    return PurchaseOrder(
        tenant=tenant,
        account=account,
        number=order.purchase_order_number,
        state=str(order.state or PurchaseOrderState.NEW),
        order_type=str(order.order_type or "")[:40],
        ordered_at=ordered_at,
        amazon_changed_at=order.changed_date,
        state_changed_at=order.state_changed_date,
        ship_window_start=order.ship_window.start if order.ship_window else None,
        ship_window_end=order.ship_window.end if order.ship_window else None,
        delivery_window_start=order.delivery_window.start if order.delivery_window else None,
        delivery_window_end=order.delivery_window.end if order.delivery_window else None,
        selling_party_id=(order.selling_party.party_id if order.selling_party else "")[:20],
        ship_to_party_id=(order.ship_to_party.party_id if order.ship_to_party else "")[:20],
        ship_to=_party_json(details, "shipToParty"),
        bill_to=_party_json(details, "billToParty"),
        buying_party=_party_json(details, "buyingParty"),
        payment_method=str(order.payment_method or "")[:20],
        deal_code=(order.deal_code or "")[:60],
        import_details=details.get("importDetails") or {},
        currency=currency[:3],
        total_cost=total.quantize(MONEY_QUANTUM),
        content_hash=digest,
        ack_deadline_at=ordered_at + datetime.timedelta(hours=account.ack_deadline_hours),
    )


def _line_from_item(*, tenant, item, mappings: MappingIndex) -> PurchaseOrderLine:
    quantity = item.ordered_quantity
    asin = (item.amazon_product_identifier or "")[:10]
    vendor_product_id = (item.vendor_product_identifier or "")[:64]
    mapped = mappings.resolve(asin=asin, vendor_product_id=vendor_product_id)
    unit = str(quantity.unit_of_measure) if quantity and quantity.unit_of_measure else ""
    return PurchaseOrderLine(
        tenant=tenant,
        item_sequence_number=item.item_sequence_number[:10],
        asin=asin,
        vendor_product_id=vendor_product_id,
        ordered_quantity=quantity.amount if quantity else 0,
        order_unit=OrderUnit.CASES if unit == OrderUnit.CASES else OrderUnit.EACHES,
        unit_size=(quantity.unit_size or 1) if quantity else 1,
        is_backorder_allowed=item.is_back_order_allowed,
        net_cost=_money_amount(item.net_cost),
        list_price=_money_amount(item.list_price),
        currency=(item.net_cost.currency_code if item.net_cost else "")[:3],
        product_id=mapped[0] if mapped else None,
        units_per_order_unit=mapped[1] if mapped else 1,
    )


def _unmapped(line: PurchaseOrderLine) -> bool:
    return line.product_id is None and line.ordered_quantity > 0


def _event(*, tenant, po_id: int, kind: str, key: str, at, detail=None) -> PurchaseOrderEvent:
    return PurchaseOrderEvent(
        tenant=tenant, purchase_order_id=po_id, kind=kind, dedupe_key=key[:200],
        occurred_at=at, detail=detail or {}, actor_label="amazon",
    )


def _iso(value: datetime.datetime | None) -> str:
    return value.astimezone(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ") if value else ""


@transaction.atomic
def purchase_orders_upsert(*, tenant, account, orders, mappings: MappingIndex, counts: Counter):
    """Upsert one page of parsed orders; returns the PO ids to (re-)plan."""
    now = timezone.now()
    digests = {order.purchase_order_number: content_hash(order.raw) for order in orders}
    existing = {
        row["number"]: row
        for row in PurchaseOrder.objects.filter(
            tenant=tenant, account=account, number__in=list(digests)
        ).values("id", "number", "content_hash", "state", "ack_status", "amazon_changed_at")
    }
    pos, lines_by_number = [], {}
    for order in orders:
        number = order.purchase_order_number
        row = existing.get(number)
        if row is not None and row["content_hash"] == digests[number]:
            counts["unchanged"] += 1
            continue
        po = _po_from_order(tenant=tenant, account=account, order=order, digest=digests[number])
        lines = [_line_from_item(tenant=tenant, item=item, mappings=mappings)
                 for item in order.items]
        po.has_unmapped_lines = any(_unmapped(line) for line in lines)
        all_cancelled = bool(lines) and all(line.ordered_quantity == 0 for line in lines)
        if po.has_unmapped_lines:
            po.ack_status = AckStatus.BLOCKED
        elif all_cancelled or po.state == PurchaseOrderState.CLOSED:
            po.ack_status = AckStatus.NOT_NEEDED
        else:
            po.ack_status = AckStatus.PENDING
        po.updated_at = now
        pos.append(po)
        lines_by_number[number] = lines
        counts["changed" if row is not None else "created"] += 1
    if not pos:
        return []
    PurchaseOrder.objects.bulk_create(
        pos, update_conflicts=True, unique_fields=["tenant", "account", "number"],
        update_fields=PO_AMAZON_FIELDS,
    )
    changed_ids = [po.pk for po in pos if po.number in existing]
    previous_lines = {
        (po_id, seq): (ordered, cancelled)
        for po_id, seq, ordered, cancelled in PurchaseOrderLine.objects.filter(
            tenant=tenant, purchase_order_id__in=changed_ids
        ).values_list("purchase_order_id", "item_sequence_number", "ordered_quantity",
                      "cancelled_quantity")
    } if changed_ids else {}
    all_lines, events, exceptions, to_plan, ack_updates = [], [], [], [], []
    for po in pos:
        row = existing.get(po.number)
        for line in lines_by_number[po.number]:
            line.purchase_order_id = po.pk
            line.updated_at = now
            before = previous_lines.get((po.pk, line.item_sequence_number))
            if before is not None:
                line.cancelled_quantity = before[1]
                if before[0] > 0 and line.ordered_quantity == 0:
                    line.cancelled_quantity = before[0]
            if line.ordered_quantity == 0 and (before is None or before[0] > 0):
                events.append(_event(
                    tenant=tenant, po_id=po.pk, kind=PurchaseOrderEventKind.CANCELLED,
                    key=f"cancelled:{line.item_sequence_number}",
                    at=po.amazon_changed_at or po.ordered_at,
                    detail={"line": line.item_sequence_number,
                            "cancelled_quantity": line.cancelled_quantity},
                ))
            if _unmapped(line):
                subject = f"po:{po.pk}/line:{line.item_sequence_number}"
                events.append(_event(
                    tenant=tenant, po_id=po.pk, kind=PurchaseOrderEventKind.LINE_UNMAPPED,
                    key=f"unmapped:{line.item_sequence_number}", at=now,
                    detail={"line": line.item_sequence_number, "asin": line.asin},
                ))
                exceptions.append(ChannelException(
                    tenant=tenant, account=account, kind=ExceptionKind.UNMAPPED_LINE,
                    subject_key=subject, purchase_order_id=po.pk,
                    message=f"PO {po.number} line {line.item_sequence_number}: no SKU "
                    f"mapping for ASIN {line.asin or '-'} / vendor product "
                    f"{line.vendor_product_id or '-'}.",
                    detail={"asin": line.asin, "vendor_product_id": line.vendor_product_id,
                            "line": line.item_sequence_number},
                ))
                counts["unmapped_lines"] += 1
            all_lines.append(line)
        if row is None:
            events.append(_event(
                tenant=tenant, po_id=po.pk, kind=PurchaseOrderEventKind.CREATED,
                key="created", at=po.ordered_at,
                detail={"state": po.state, "lines": len(lines_by_number[po.number])},
            ))
            if po.ack_status == AckStatus.PENDING:
                to_plan.append(po.pk)
            continue
        amazon_changed = po.amazon_changed_at and po.amazon_changed_at != row["amazon_changed_at"]
        if amazon_changed:
            events.append(_event(
                tenant=tenant, po_id=po.pk, kind=PurchaseOrderEventKind.CHANGED,
                key=f"changed:{_iso(po.amazon_changed_at)}", at=po.amazon_changed_at,
                detail={"acknowledged": row["ack_status"] not in NOT_YET_ACKNOWLEDGED},
            ))
        if po.state != row["state"]:
            at = po.state_changed_at or now
            events.append(_event(
                tenant=tenant, po_id=po.pk, kind=PurchaseOrderEventKind.STATE_CHANGED,
                key=f"state:{po.state}:{_iso(at)}", at=at,
                detail={"from": row["state"], "to": po.state},
            ))
        # Our side of a changed PO: re-plan it while nothing was sent,
        # else flag it for review (Amazon wants the changed PO fulfilled).
        if row["ack_status"] in NOT_YET_ACKNOWLEDGED:
            ack_updates.append((po.pk, {"ack_status": po.ack_status}))
            if po.ack_status == AckStatus.PENDING:
                to_plan.append(po.pk)
        elif amazon_changed:
            ack_updates.append((po.pk, {"changed_after_ack": True}))
    PurchaseOrderLine.objects.bulk_create(
        all_lines, update_conflicts=True,
        unique_fields=["tenant", "purchase_order", "item_sequence_number"],
        update_fields=LINE_AMAZON_FIELDS,
    )
    counts["lines_written"] += len(all_lines)
    if events:
        PurchaseOrderEvent.objects.bulk_create(events, ignore_conflicts=True)
    if exceptions:
        ChannelException.objects.bulk_create(exceptions, ignore_conflicts=True)
    for po_id, values in ack_updates:
        PurchaseOrder.objects.filter(tenant=tenant, pk=po_id).update(**values, updated_at=now)
    # A change that mapped every line (or cancelled the unmapped ones)
    # closes the PO's unmapped-line exceptions.
    cleared = [po.pk for po in pos if po.number in existing and not po.has_unmapped_lines]
    if cleared:
        ChannelException.objects.filter(
            tenant=tenant, kind=ExceptionKind.UNMAPPED_LINE, status=ExceptionStatus.OPEN,
            purchase_order_id__in=cleared,
        ).update(status=ExceptionStatus.RESOLVED, resolved_at=now, updated_at=now,
                 resolution="The line is mapped or cancelled now.")
    return to_plan


def _page_iter(client, *, by: str, after, before, counts: Counter):
    """Pages of getPurchaseOrders over 7-day windows (``by`` created|changed)."""
    for window_start, window_end in split_windows(after=after, before=before):
        bounds = (
            {"created_after": window_start, "created_before": window_end}
            if by == "created"
            else {"changed_after": window_start, "changed_before": window_end}
        )
        next_token = None
        while True:
            page = client.get_purchase_orders_page(
                **bounds, limit=MAX_PAGE_SIZE, next_token=next_token
            )
            counts["pages"] += 1
            yield page
            if not page.next_token:
                break
            next_token = page.next_token


def _last_request_id(*, tenant, account) -> str:
    return (
        ApiCallLog.objects.filter(tenant=tenant, account=account)
        .order_by("-created_at", "-id")
        .values_list("request_id", flat=True)
        .first()
        or ""
    )


def _sync_failed(*, tenant, account, run, error, kind: str, counts) -> None:
    from channels.services.accounts import account_mark_reauth_needed

    sync_run_fail(tenant=tenant, run=run, error=error, counts=dict(counts))
    if isinstance(error, ReauthorizationRequired):
        account_mark_reauth_needed(tenant=tenant, account=account, error=error)
        return
    channel_exception_open(
        tenant=tenant, account=account, kind=ExceptionKind.SYNC_FAILED,
        subject_key=f"account:{account.pk}:{kind}",
        message=f"{SyncKind(kind).label} sync of {account.name} failed: "
        f"{getattr(error, 'error_code', '')} {getattr(error, 'message', str(error))}"[:500],
        detail={"request_id": getattr(error, "request_id", "") or "", "run": run.pk},
    )


def _sync_succeeded(*, tenant, account, kind: str) -> None:
    channel_exceptions_resolve(
        tenant=tenant, kind=ExceptionKind.SYNC_FAILED,
        subject_keys=[f"account:{account.pk}:{kind}"], resolution="A later sync succeeded.",
    )


def _window(*, account, high_water, now):
    if high_water is not None:
        return high_water - SYNC_OVERLAP, now
    return now - datetime.timedelta(days=account.initial_lookback_days), now


def purchase_orders_sync(
    *, tenant, account: AmazonVendorAccount, now: datetime.datetime | None = None,
    plan: bool = True, **client_options,
):
    """Pull new and changed POs of ``account``; returns the SyncRun (None
    when the account is not active, e.g. waiting for re-authorization)."""
    from channels.services.clients import account_client_build

    account = AmazonVendorAccount.objects.filter(tenant=tenant, pk=account.pk).first()
    if account is None or account.status != AccountStatus.ACTIVE:
        return None
    # Amazon's timestamps have whole seconds: the window ends on one, and
    # the overlap re-reads what landed in the last (partial) second.
    now = (now or timezone.now()).replace(microsecond=0)
    after, before = _window(account=account, high_water=account.po_changed_high_water, now=now)
    run = sync_run_start(tenant=tenant, account=account, kind=SyncKind.PURCHASE_ORDERS,
                         window_start=after, window_end=before)
    counts: Counter = Counter()
    mappings = mapping_index_load(tenant=tenant, account=account)
    seen: dict[str, str] = {}
    try:
        with account_client_build(account=account, **client_options) as client:
            # Created and changed ranges both (spapi-vendor.md §11.4): a PO
            # listed by both in one run is upserted once.
            for by in ("created", "changed"):
                for page in _page_iter(client, by=by, after=after, before=before, counts=counts):
                    fresh = []
                    for order in page.orders:
                        counts["orders_seen"] += 1
                        digest = content_hash(order.raw)
                        if seen.get(order.purchase_order_number) == digest:
                            continue
                        seen[order.purchase_order_number] = digest
                        fresh.append(order)
                    if not fresh:
                        continue
                    to_plan = purchase_orders_upsert(
                        tenant=tenant, account=account, orders=fresh, mappings=mappings,
                        counts=counts,
                    )
                    if plan and to_plan:
                        purchase_orders_plan_enqueue(tenant=tenant, purchase_order_ids=to_plan)
    except SpApiError as error:
        _sync_failed(tenant=tenant, account=account, run=run, error=error,
                     kind=SyncKind.PURCHASE_ORDERS, counts=counts)
        return run
    AmazonVendorAccount.objects.filter(tenant=tenant, pk=account.pk).update(
        po_changed_high_water=before, updated_at=timezone.now()
    )
    _sync_succeeded(tenant=tenant, account=account, kind=SyncKind.PURCHASE_ORDERS)
    return sync_run_finish(
        tenant=tenant, run=run, counts={"orders_unique": len(seen), **counts},
        request_id=_last_request_id(tenant=tenant, account=account),
    )


def purchase_orders_plan_enqueue(*, tenant, purchase_order_ids: list[int]) -> None:
    """Hand POs to acknowledgement planning after the page commits."""
    from channels.tasks.purchase_orders import purchase_orders_plan_task

    ids = list(purchase_order_ids)
    transaction.on_commit(
        lambda: purchase_orders_plan_task.delay(tenant_id=tenant.pk, purchase_order_ids=ids)
    )


def purchase_orders_plan(*, tenant, purchase_order_ids: list[int]) -> int:
    """Call the acknowledgement planner for each PO still waiting for a plan."""
    try:
        from channels.services.acknowledgements import acknowledgement_plan
    except ImportError:
        logger.warning("Acknowledgement planning is not available; %d POs wait.",
                       len(purchase_order_ids))
        return 0
    planned = 0
    purchase_orders = PurchaseOrder.objects.filter(
        tenant=tenant, pk__in=list(purchase_order_ids), ack_status=AckStatus.PENDING,
    ).select_related("account")
    for purchase_order in purchase_orders:
        acknowledgement_plan(tenant=tenant, purchase_order=purchase_order)
        planned += 1
    return planned


# --- getPurchaseOrdersStatus -------------------------------------------------------


def _qty(quantity) -> int | None:
    return quantity.amount if quantity is not None else None


@transaction.atomic
def purchase_order_statuses_apply(*, tenant, account, statuses, counts: Counter) -> None:
    """Apply one page of order statuses: only rows whose values differ are written."""
    now = timezone.now()
    by_number = {status.purchase_order_number: status for status in statuses}
    pos = list(
        PurchaseOrder.objects.filter(tenant=tenant, account=account, number__in=list(by_number))
        .prefetch_related("lines")
    )
    po_updates, line_updates, events, exceptions = [], [], [], []
    for po in pos:
        status = by_number[po.number]
        counts["orders_matched"] += 1
        status_value = str(status.status or "")[:10]
        if po.amazon_status != status_value:
            po.amazon_status = status_value
            po.amazon_status_updated_at = status.last_updated_date or now
            po.updated_at = now
            po_updates.append(po)
        closed = status_value == "CLOSED"
        lines = {line.item_sequence_number: line for line in po.lines.all()}
        for item in status.items:
            line = lines.get(item.item_sequence_number)
            if line is None:
                continue
            values = {
                "amazon_accepted_quantity": _qty(item.accepted_quantity),
                "amazon_rejected_quantity": _qty(item.rejected_quantity),
                "received_quantity": _qty(item.received_quantity),
                "receive_status": str(item.receive_status or "")[:30],
                "last_received_at": item.last_receive_date,
            }
            if any(getattr(line, name) != value for name, value in values.items()):
                for name, value in values.items():
                    setattr(line, name, value)
                line.updated_at = now
                line_updates.append(line)
                if line.received_quantity:
                    events.append(_event(
                        tenant=tenant, po_id=po.pk, kind=PurchaseOrderEventKind.RECEIVED,
                        key=f"received:{line.item_sequence_number}:{line.received_quantity}",
                        at=line.last_received_at or now,
                        detail={"line": line.item_sequence_number,
                                "received": line.received_quantity},
                    ))
            finished = closed or line.receive_status == "RECEIVED"
            received = line.received_quantity
            if finished and received is not None and line.shipped_quantity > received:
                short = line.shipped_quantity - received
                events.append(_event(
                    tenant=tenant, po_id=po.pk, kind=PurchaseOrderEventKind.SHORTAGE,
                    key=f"shortage:{line.item_sequence_number}:{received}",
                    at=line.last_received_at or now,
                    detail={"line": line.item_sequence_number, "shipped": line.shipped_quantity,
                            "received": received, "short": short},
                ))
                exceptions.append(ChannelException(
                    tenant=tenant, account=account, kind=ExceptionKind.SHORTAGE,
                    subject_key=f"po:{po.pk}/line:{line.item_sequence_number}",
                    purchase_order_id=po.pk,
                    message=f"PO {po.number} line {line.item_sequence_number}: Amazon received "
                    f"{received} of {line.shipped_quantity} shipped ({short} short).",
                    detail={"shipped": line.shipped_quantity, "received": received,
                            "short": short, "asin": line.asin},
                ))
    if po_updates:
        PurchaseOrder.objects.bulk_update(
            po_updates, ["amazon_status", "amazon_status_updated_at", "updated_at"]
        )
    if line_updates:
        PurchaseOrderLine.objects.bulk_update(line_updates, [
            "amazon_accepted_quantity", "amazon_rejected_quantity", "received_quantity",
            "receive_status", "last_received_at", "updated_at",
        ])
    if events:
        PurchaseOrderEvent.objects.bulk_create(events, ignore_conflicts=True)
    if exceptions:
        ChannelException.objects.bulk_create(exceptions, ignore_conflicts=True)
    counts["orders_updated"] += len(po_updates)
    counts["lines_updated"] += len(line_updates)
    counts["shortages"] += len(exceptions)


def purchase_order_statuses_sync(
    *, tenant, account: AmazonVendorAccount, now: datetime.datetime | None = None,
    **client_options,
):
    """Pull getPurchaseOrdersStatus updated since the status high-water mark."""
    from channels.services.clients import account_client_build

    account = AmazonVendorAccount.objects.filter(tenant=tenant, pk=account.pk).first()
    if account is None or account.status != AccountStatus.ACTIVE:
        return None
    now = (now or timezone.now()).replace(microsecond=0)
    after, before = _window(account=account, high_water=account.po_status_high_water, now=now)
    run = sync_run_start(tenant=tenant, account=account, kind=SyncKind.PURCHASE_ORDER_STATUS,
                         window_start=after, window_end=before)
    counts: Counter = Counter()
    try:
        with account_client_build(account=account, **client_options) as client:
            for window_start, window_end in split_windows(after=after, before=before):
                next_token = None
                while True:
                    page = client.get_purchase_orders_status_page(
                        updated_after=window_start, updated_before=window_end,
                        limit=MAX_PAGE_SIZE, next_token=next_token,
                    )
                    counts["pages"] += 1
                    counts["statuses_seen"] += len(page.statuses)
                    if page.statuses:
                        purchase_order_statuses_apply(
                            tenant=tenant, account=account, statuses=page.statuses,
                            counts=counts,
                        )
                    if not page.next_token:
                        break
                    next_token = page.next_token
    except SpApiError as error:
        _sync_failed(tenant=tenant, account=account, run=run, error=error,
                     kind=SyncKind.PURCHASE_ORDER_STATUS, counts=counts)
        return run
    AmazonVendorAccount.objects.filter(tenant=tenant, pk=account.pk).update(
        po_status_high_water=before, updated_at=timezone.now()
    )
    _sync_succeeded(tenant=tenant, account=account, kind=SyncKind.PURCHASE_ORDER_STATUS)
    return sync_run_finish(
        tenant=tenant, run=run, counts=dict(counts),
        request_id=_last_request_id(tenant=tenant, account=account),
    )


def accounts_due_for_sync(*, tenant, kind: str, now: datetime.datetime | None = None):
    """Active accounts whose poll interval has passed since their last run of ``kind``."""
    from django.db.models import Max

    now = now or timezone.now()
    due = []
    accounts = AmazonVendorAccount.objects.filter(
        tenant=tenant, status=AccountStatus.ACTIVE
    ).annotate(
        last_run=Max("sync_runs__started_at", filter=Q(sync_runs__kind=kind))
    )
    for account in accounts:
        interval = datetime.timedelta(minutes=max(1, account.poll_interval_minutes))
        if account.last_run is None or account.last_run + interval <= now:
            due.append(account)
    return due
