"""Acknowledgements: plan from stock, hold it, review, send, follow up.

Amazon wants every PO line acknowledged within 24 hours, backorders
included; the price may not exceed the PO's; an update is allowed within
48 hours of the first acknowledgement and replaces it (spapi-vendor.md §2,
vendor-domain.md §2).

- ``acknowledgement_plan``: per line, in line order, from inventory's ATP
  on the "amazon_vendor" channel (ATP is consumed as lines are planned,
  case packs respected): accept what is available, backorder the rest when
  the line allows it and inbound stock within the account's backorder
  horizon covers it, else reject (ObsoleteProduct for inactive products,
  TemporarilyUnavailable otherwise). Accepted units are held in inventory.
  The account's ``ack_auto_send`` rule queues the plan for sending or
  leaves it for review.
- ``acknowledgement_edit``: ops change quantities within the rules.
- ``acknowledgement_send``: a new document version becomes a Submission.
- Holds always follow the plan (``acknowledgement_holds_sync``): units
  accepted and not yet shipped are held, nothing more, nothing less.
"""

from __future__ import annotations

import datetime
import logging
from collections import defaultdict
from datetime import timedelta
from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from acorn.exceptions import ApplicationError, NotFoundError
from acorn.messages import message_store
from acorn.models import AuditAction
from acorn.services import audit_record
from channels import message_codes as messages
from channels.locks import purchase_order_lines_lock, purchase_order_lock
from channels.models import (
    AckAutoSend,
    AckStatus,
    DocumentType,
    ExceptionKind,
    PurchaseOrder,
    PurchaseOrderEvent,
    PurchaseOrderEventKind,
    PurchaseOrderLine,
    PurchaseOrderState,
    RejectionReason,
    Submission,
    SubmissionStatus,
)
from channels.services.exceptions import channel_exception_open, channel_exceptions_resolve
from channels.services.submissions import Presence, submission_create
from inventory.selectors import (
    atp_for_products,
    hold_list,
    inbound_supply_open_by_product,
)
from inventory.services import (
    InsufficientStockError,
    stock_hold_place,
    stock_hold_release,
)
from vendor_api.operations.orders import (
    AcknowledgementCode,
    AcknowledgementItem,
    ItemAcknowledgement,
    OrderAcknowledgement,
    submit_acknowledgement_body,
)
from vendor_api.operations.orders import RejectionReason as ApiRejectionReason
from vendor_api.types import ItemQuantity, Money, Party, parse_datetime

logger = logging.getLogger(__name__)

CHANNEL = "amazon_vendor"
HOLD_SOURCE_TYPE = "amazon_purchase_order"
# Amazon: updates to quantity, price or dates within 48 h of the first
# acknowledgement (spapi-vendor.md §2).
UPDATE_WINDOW = timedelta(hours=48)
# Warn this long before the 24 h acknowledgement deadline.
DEADLINE_WARNING = timedelta(hours=getattr(settings, "ACORN_ACK_DEADLINE_WARNING_HOURS", 4))
# Days between the ship date of a backorder and its delivery when the PO
# gives no windows to derive it from.
DEFAULT_TRANSIT_DAYS = 3

PLANNABLE = frozenset({AckStatus.PENDING, AckStatus.BLOCKED, AckStatus.REVIEW, AckStatus.FAILED})
EDITABLE = frozenset({AckStatus.REVIEW, AckStatus.FAILED})
SENT_STATUSES = frozenset({AckStatus.SUBMITTED, AckStatus.ACCEPTED})
# Where the deadline clock still runs.
AWAITING = frozenset({
    AckStatus.PENDING, AckStatus.BLOCKED, AckStatus.REVIEW, AckStatus.QUEUED, AckStatus.FAILED,
})

PO_NOT_FOUND = "No such purchase order."
CANNOT_SEND = "The acknowledgement of {number} cannot be sent while it is {status}."
CANNOT_EDIT = "The acknowledgement of {number} cannot be edited while it is {status}."
UPDATE_WINDOW_PASSED = (
    "Amazon accepts acknowledgement updates only within 48 hours of the first one "
    "(sent {first_sent:%Y-%m-%d %H:%M} UTC)."
)
LINE_NOT_IN_PO = "Line {line_id} is not a line of this purchase order."
TOTAL_MISMATCH = "Line {seq}: accepted + backordered + rejected must equal {ordered}."
OVER_AVAILABLE = "Line {seq}: only {available} can be accepted from available stock."
BACKORDER_NOT_ALLOWED = "Line {seq}: Amazon does not allow backorders on this line."
PRICE_ABOVE_PO = "Line {seq}: the net cost may not exceed the PO's {price}."
PRICE_NOT_POSITIVE = "Line {seq}: the net cost must be positive."
BLOCKED_UNMAPPED = "The PO has unmapped lines; map them before planning."


def _source_ref(purchase_order: PurchaseOrder) -> str:
    return str(purchase_order.pk)


def _event(*, tenant, purchase_order, kind: str, key: str, detail=None, actor=None) -> None:
    label = (getattr(actor, "get_username", lambda: "")() or "system")[:200]
    PurchaseOrderEvent.objects.bulk_create(
        [
            PurchaseOrderEvent(
                tenant=tenant, purchase_order=purchase_order, kind=kind, dedupe_key=key[:200],
                occurred_at=timezone.now(), detail=detail or {}, actor_label=label,
            )
        ],
        ignore_conflicts=True,
    )


# --- Holds ------------------------------------------------------------------


def _open_holds(*, tenant, purchase_order) -> tuple[dict[str, int], int]:
    """Open held units per PO line (item sequence), and the holds count."""
    holds = list(
        hold_list(
            tenant=tenant,
            filters={"source_type": HOLD_SOURCE_TYPE, "source_ref": _source_ref(purchase_order)},
        )
    )
    open_units: dict[str, int] = defaultdict(int)
    for hold in holds:
        for line in hold.lines.all():
            open_units[line.line_ref] += line.open_quantity
    return open_units, len(holds)


def _target_units(line: PurchaseOrderLine, po_open: bool) -> int:
    """Units to keep held for a line: accepted, not yet shipped, still ordered."""
    if not po_open or line.product_id is None:
        return 0
    accepted = min(line.planned_accept, line.ordered_quantity)
    return max(accepted - line.shipped_quantity, 0) * line.units_per_order_unit


def _holds_sync(*, tenant, purchase_order, lines, reason: str, actor=None) -> None:
    """Make open holds equal the plan: release the excess, hold the shortfall.

    Runs under the PO row lock, so the comparison and the change are one
    step; a replay finds nothing to do. New holds carry the key
    ``po:<id>:ack:v<version>:h<n>`` (n = holds so far), so a retried
    transaction that rolled back reuses its key and never holds twice.
    """
    po_open = purchase_order.state != PurchaseOrderState.CLOSED
    held, hold_count = _open_holds(tenant=tenant, purchase_order=purchase_order)
    release, place = [], []
    for line in lines:
        target = _target_units(line, po_open)
        current = held.get(line.item_sequence_number, 0)
        if current > target and line.product_id:
            release.append({"product_id": line.product_id, "quantity": current - target,
                            "line_ref": line.item_sequence_number})
        elif target > current:
            place.append({"product_id": line.product_id, "quantity": target - current,
                          "line_ref": line.item_sequence_number})
    if release:
        stock_hold_release(
            tenant=tenant, source_type=HOLD_SOURCE_TYPE, source_ref=_source_ref(purchase_order),
            lines=release, reason=reason, actor=actor,
        )
    if place:
        stock_hold_place(
            tenant=tenant, lines=place, source_type=HOLD_SOURCE_TYPE,
            source_ref=_source_ref(purchase_order), channel=CHANNEL,
            idempotency_key=f"po:{purchase_order.pk}:ack:v{purchase_order.ack_version}"
                            f":h{hold_count}",
            note=f"Amazon PO {purchase_order.number}", actor=actor,
        )


@transaction.atomic
def acknowledgement_holds_sync(*, tenant, purchase_order, reason: str = "plan changed") -> None:
    """Bring a PO's holds in line with its plan (cancellations, closing)."""
    po = purchase_order_lock(tenant=tenant, purchase_order_id=purchase_order.pk)
    if po is None:
        raise NotFoundError(PO_NOT_FOUND)
    lines = purchase_order_lines_lock(tenant=tenant, purchase_order_ids=[po.pk])
    _holds_sync(tenant=tenant, purchase_order=po, lines=lines, reason=reason)


# --- Planning -----------------------------------------------------------------


def _transit_days(purchase_order: PurchaseOrder) -> int:
    if purchase_order.ship_window_start and purchase_order.delivery_window_start:
        days = (purchase_order.delivery_window_start - purchase_order.ship_window_start).days
        if days > 0:
            return days
    return DEFAULT_TRANSIT_DAYS


def _backorder_date(batches: list, units_needed: int) -> datetime.date | None:
    """Consume inbound ``batches`` for ``units_needed``; the covering date."""
    covered = 0
    for batch in batches:
        covered += batch[1]
        if covered >= units_needed:
            break
    if covered < units_needed:
        return None
    remaining = units_needed
    day = None
    for batch in batches:
        if remaining <= 0:
            break
        take = min(batch[1], remaining)
        batch[1] -= take
        remaining -= take
        day = batch[0]
    return day


def _plan_lines(*, tenant, purchase_order, lines, held: dict[str, int], today) -> None:
    """Fill planned_* of ``lines`` in place (see the module docstring)."""
    account = purchase_order.account
    product_ids = {line.product_id for line in lines if line.product_id}
    atp = atp_for_products(tenant=tenant, channel=CHANNEL, product_ids=product_ids, today=today)
    available: dict[int, int] = defaultdict(int)
    for product_id in product_ids:
        available[product_id] = atp[product_id].available if product_id in atp else 0
    # This PO's own holds are already out of ATP: they count as available.
    for line in lines:
        if line.product_id:
            available[line.product_id] += held.get(line.item_sequence_number, 0)
    inbound = inbound_supply_open_by_product(
        tenant=tenant, product_ids=product_ids,
        until=today + timedelta(days=account.backorder_horizon_days),
    )
    transit = _transit_days(purchase_order)
    for line in lines:
        ordered = line.ordered_quantity
        units = max(line.units_per_order_unit, 1)
        line.planned_accept = line.planned_backorder = line.planned_reject = 0
        line.rejection_reason = ""
        line.scheduled_ship_date = line.scheduled_delivery_date = None
        line.ack_net_cost = line.net_cost
        if ordered == 0:
            _plan_note(line, messages.PLAN_CANCELLED)
            continue
        product = line.product
        if not product.is_active:
            line.planned_reject = ordered
            line.rejection_reason = RejectionReason.OBSOLETE_PRODUCT
            _plan_note(line, messages.PLAN_INACTIVE, sku=product.sku)
            continue
        free = available[product.pk]
        accept = min(ordered, max(free, 0) // units)
        available[product.pk] -= accept * units
        rest = ordered - accept
        backorder = 0
        if rest and line.is_backorder_allowed:
            day = _backorder_date(inbound.get(product.pk, []), rest * units)
            if day is not None:
                backorder = rest
                line.scheduled_ship_date = max(day, today)
                line.scheduled_delivery_date = line.scheduled_ship_date + timedelta(days=transit)
        reject = rest - backorder
        line.planned_accept, line.planned_backorder, line.planned_reject = accept, backorder, reject
        if reject:
            line.rejection_reason = RejectionReason.TEMPORARILY_UNAVAILABLE
        _plan_note(line, messages.PLAN_AVAILABLE, free=free, units=units)


def _plan_note(line, code: str, **params) -> None:
    """The line's plan note: a message code shown in the reader's language,
    and its English text."""
    line.plan_note_code, line.plan_note_params, note = message_store(code, **params)
    line.plan_note = note[:300]


PLAN_FIELDS = [
    "planned_accept", "planned_backorder", "planned_reject", "rejection_reason",
    "scheduled_ship_date", "scheduled_delivery_date", "plan_note", "plan_note_code",
    "plan_note_params", "ack_net_cost", "updated_at",
]


def _fully_accepted(lines) -> bool:
    return all(line.planned_accept == line.ordered_quantity for line in lines)


@transaction.atomic
def acknowledgement_plan(*, tenant, purchase_order) -> PurchaseOrder:
    """Plan (or re-plan) the acknowledgement of a PO from available stock.

    Called after PO sync and after unmapped lines are mapped. A PO whose
    acknowledgement already left only has its holds brought in line with
    the (possibly cancelled) quantities. Returns the locked PO.
    """
    po = purchase_order_lock(tenant=tenant, purchase_order_id=purchase_order.pk)
    if po is None:
        raise NotFoundError(PO_NOT_FOUND)
    lines = purchase_order_lines_lock(tenant=tenant, purchase_order_ids=[po.pk])
    if po.ack_status not in PLANNABLE:
        _holds_sync(tenant=tenant, purchase_order=po, lines=lines, reason="PO changed")
        return po
    now = timezone.now()
    if po.state == PurchaseOrderState.CLOSED or all(ln.ordered_quantity == 0 for ln in lines):
        _holds_sync(tenant=tenant, purchase_order=po, lines=lines, reason="PO closed")
        po.ack_status = AckStatus.NOT_NEEDED
        po.save(update_fields=["ack_status", "updated_at"])
        return po
    if any(line.product_id is None and line.ordered_quantity > 0 for line in lines):
        po.ack_status = AckStatus.BLOCKED
        po.save(update_fields=["ack_status", "updated_at"])
        return po
    held, _count = _open_holds(tenant=tenant, purchase_order=po)
    _plan_lines(tenant=tenant, purchase_order=po, lines=lines, held=held, today=now.date())
    for line in lines:
        line.updated_at = now
    PurchaseOrderLine.objects.bulk_update(lines, PLAN_FIELDS)
    try:
        with transaction.atomic():
            _holds_sync(tenant=tenant, purchase_order=po, lines=lines, reason="re-planned")
    except InsufficientStockError as error:
        # Stock moved between the ATP read and the hold: leave it to ops.
        logger.info("Holding stock for PO %s failed: %s", po.number, error.message)
        po.ack_status = AckStatus.REVIEW
        po.save(update_fields=["ack_status", "updated_at"])
        _event(tenant=tenant, purchase_order=po, kind=PurchaseOrderEventKind.PLANNED,
               key=f"planned:{now.isoformat()}",
               detail={"hold_failed": error.message})
        return po
    _event(
        tenant=tenant, purchase_order=po, kind=PurchaseOrderEventKind.PLANNED,
        key=f"planned:{now.isoformat()}",
        detail={
            "lines": {
                line.item_sequence_number: [line.planned_accept, line.planned_backorder,
                                            line.planned_reject]
                for line in lines
            }
        },
    )
    rule = po.account.ack_auto_send
    auto = rule == AckAutoSend.ALWAYS or (
        rule == AckAutoSend.WHEN_FULLY_AVAILABLE and _fully_accepted(lines)
    )
    if auto:
        _acknowledgement_submit(tenant=tenant, purchase_order=po, lines=lines)
    else:
        po.ack_status = AckStatus.REVIEW
        po.save(update_fields=["ack_status", "updated_at"])
    return po


# --- Editing --------------------------------------------------------------------


def _first_sent_at(*, tenant, purchase_order) -> datetime.datetime | None:
    return (
        Submission.objects.filter(
            tenant=tenant, account_id=purchase_order.account_id,
            document_type=DocumentType.ACKNOWLEDGEMENT, document_ref=purchase_order.number,
            sent_at__isnull=False,
        )
        .order_by("sent_at")
        .values_list("sent_at", flat=True)
        .first()
    )


def _update_window_check(*, tenant, purchase_order, now) -> None:
    first_sent = _first_sent_at(tenant=tenant, purchase_order=purchase_order)
    if first_sent is not None and now - first_sent > UPDATE_WINDOW:
        raise ApplicationError(UPDATE_WINDOW_PASSED.format(first_sent=first_sent))


@transaction.atomic
def acknowledgement_edit(*, tenant, purchase_order, lines: list[dict], actor=None) -> PurchaseOrder:
    """Ops change the plan, within Amazon's and our rules.

    ``lines``: ``[{"line_id", "accept", "backorder", "reject",
    "rejection_reason"?, "net_cost"?, "scheduled_ship_date"?,
    "scheduled_delivery_date"?}]``. Per line: the three quantities add up
    to the ordered quantity; accepted units fit available stock plus what
    the line already holds; backorders only where Amazon allows them; the
    net cost is positive and never above the PO's. After sending, an edit
    is an update: allowed within 48 hours of the first acknowledgement.
    Holds follow the new plan; the PO returns to review. Audited.
    """
    now = timezone.now()
    po = purchase_order_lock(tenant=tenant, purchase_order_id=purchase_order.pk)
    if po is None:
        raise NotFoundError(PO_NOT_FOUND)
    if po.ack_status in SENT_STATUSES:
        _update_window_check(tenant=tenant, purchase_order=po, now=now)
    elif po.ack_status not in EDITABLE:
        raise ApplicationError(
            CANNOT_EDIT.format(number=po.number, status=po.get_ack_status_display())
        )
    po_lines = purchase_order_lines_lock(tenant=tenant, purchase_order_ids=[po.pk])
    by_id = {line.pk: line for line in po_lines}
    held, _count = _open_holds(tenant=tenant, purchase_order=po)
    product_ids = {line.product_id for line in po_lines if line.product_id}
    atp = atp_for_products(tenant=tenant, channel=CHANNEL, product_ids=product_ids)
    free: dict[int, int] = defaultdict(int)
    for product_id in product_ids:
        free[product_id] = atp[product_id].available if product_id in atp else 0
    for line in po_lines:
        if line.product_id:
            free[line.product_id] += held.get(line.item_sequence_number, 0)
    before = {
        line.item_sequence_number: [line.planned_accept, line.planned_backorder,
                                    line.planned_reject, str(line.ack_net_cost)]
        for line in po_lines
    }
    errors = []
    for change in lines:
        line = by_id.get(int(change["line_id"]))
        if line is None:
            raise ApplicationError(LINE_NOT_IN_PO.format(line_id=change["line_id"]))
        seq = line.item_sequence_number
        accept, backorder, reject = (int(change.get(k) or 0)
                                     for k in ("accept", "backorder", "reject"))
        if min(accept, backorder, reject) < 0 or accept + backorder + reject != (
            line.ordered_quantity
        ):
            errors.append(TOTAL_MISMATCH.format(seq=seq, ordered=line.ordered_quantity))
            continue
        units = max(line.units_per_order_unit, 1)
        if line.product_id is None and accept:
            errors.append(OVER_AVAILABLE.format(seq=seq, available=0))
            continue
        if line.product_id:
            can = max(free[line.product_id], 0) // units
            if accept > can:
                errors.append(OVER_AVAILABLE.format(seq=seq, available=can))
                continue
            free[line.product_id] -= accept * units
        if backorder and not line.is_backorder_allowed:
            errors.append(BACKORDER_NOT_ALLOWED.format(seq=seq))
            continue
        price = change.get("net_cost")
        if price not in (None, ""):
            price = Decimal(str(price))
            if price <= 0:
                errors.append(PRICE_NOT_POSITIVE.format(seq=seq))
                continue
            if line.net_cost is not None and price > line.net_cost:
                errors.append(PRICE_ABOVE_PO.format(seq=seq, price=line.net_cost))
                continue
            line.ack_net_cost = price
        line.planned_accept, line.planned_backorder, line.planned_reject = (
            accept, backorder, reject
        )
        line.rejection_reason = (
            change.get("rejection_reason") or line.rejection_reason
            or RejectionReason.TEMPORARILY_UNAVAILABLE
        ) if reject else ""
        for name in ("scheduled_ship_date", "scheduled_delivery_date"):
            if change.get(name):
                setattr(line, name, change[name])
        if not backorder:
            line.scheduled_ship_date = line.scheduled_delivery_date = None
        _plan_note(line, messages.PLAN_EDITED)
        line.updated_at = now
    if errors:
        raise ApplicationError(" ".join(errors), {"lines": errors})
    for line in po_lines:
        line.full_clean(exclude=["tenant", "purchase_order", "product"],
                        validate_constraints=False)
    PurchaseOrderLine.objects.bulk_update(po_lines, PLAN_FIELDS)
    _holds_sync(tenant=tenant, purchase_order=po, lines=po_lines, reason="plan edited",
                actor=actor)
    po.ack_status = AckStatus.REVIEW
    po.save(update_fields=["ack_status", "updated_at"])
    after = {
        line.item_sequence_number: [line.planned_accept, line.planned_backorder,
                                    line.planned_reject, str(line.ack_net_cost)]
        for line in po_lines
    }
    _event(tenant=tenant, purchase_order=po, kind=PurchaseOrderEventKind.PLAN_EDITED,
           key=f"edited:{now.isoformat()}", detail={"before": before, "after": after},
           actor=actor)
    audit_record(actor=actor, action=AuditAction.UPDATE, instance=po,
                 summary=f"Acknowledgement plan of {po.number} edited",
                 before={"lines": before}, after={"lines": after})
    return po


# --- Sending ---------------------------------------------------------------------


def _date_time(day: datetime.date | None) -> datetime.datetime | None:
    if day is None:
        return None
    return datetime.datetime.combine(day, datetime.time(0, 0), tzinfo=datetime.UTC)


def acknowledgement_payload(*, purchase_order, lines, acknowledged_at) -> dict:
    """The submitAcknowledgement body for the current plan."""
    selling_party = purchase_order.selling_party_id or (
        (purchase_order.account.vendor_codes or [""])[0]
    )
    items = []
    for line in lines:
        if line.ordered_quantity == 0:
            # Cancelled by Amazon: nothing to acknowledge (quantities must
            # be non-zero); a missing line counts as rejected.
            continue
        unit = line.order_unit
        size = line.unit_size or None

        def quantity(amount, unit=unit, size=size):
            return ItemQuantity(amount=amount, unit_of_measure=unit, unit_size=size)

        acks = []
        if line.planned_accept:
            acks.append(ItemAcknowledgement(
                code=AcknowledgementCode.ACCEPTED, quantity=quantity(line.planned_accept),
            ))
        if line.planned_backorder:
            acks.append(ItemAcknowledgement(
                code=AcknowledgementCode.BACKORDERED, quantity=quantity(line.planned_backorder),
                scheduled_ship_date=_date_time(line.scheduled_ship_date),
                scheduled_delivery_date=_date_time(line.scheduled_delivery_date),
            ))
        if line.planned_reject:
            acks.append(ItemAcknowledgement(
                code=AcknowledgementCode.REJECTED, quantity=quantity(line.planned_reject),
                rejection_reason=ApiRejectionReason(
                    line.rejection_reason or RejectionReason.TEMPORARILY_UNAVAILABLE
                ),
            ))
        cost = line.ack_net_cost if line.ack_net_cost is not None else line.net_cost
        currency = line.currency or purchase_order.currency
        items.append(AcknowledgementItem(
            ordered_quantity=quantity(line.ordered_quantity),
            acknowledgements=tuple(acks),
            item_sequence_number=line.item_sequence_number,
            amazon_product_identifier=line.asin or None,
            vendor_product_identifier=line.vendor_product_id or None,
            net_cost=Money(amount=cost, currency_code=currency) if cost is not None else None,
        ))
    acknowledgement = OrderAcknowledgement(
        purchase_order_number=purchase_order.number,
        selling_party=Party(party_id=selling_party),
        acknowledgement_date=acknowledged_at,
        items=tuple(items),
    )
    return submit_acknowledgement_body(acknowledgements=[acknowledgement])


def _acknowledgement_submit(*, tenant, purchase_order, lines) -> Submission:
    """A new document version for the current plan, queued for sending."""
    version = purchase_order.ack_version + 1
    # Whole seconds: the date travels as ISO text and comes back from
    # getPurchaseOrdersStatus to identify this version when reconciling.
    now = timezone.now().replace(microsecond=0)
    payload = acknowledgement_payload(purchase_order=purchase_order, lines=lines,
                                      acknowledged_at=now)
    submission, _created = submission_create(
        tenant=tenant, account=purchase_order.account,
        document_type=DocumentType.ACKNOWLEDGEMENT, document_ref=purchase_order.number,
        document_version=version, payload=payload,
    )
    purchase_order.ack_version = version
    purchase_order.ack_status = AckStatus.QUEUED
    purchase_order.save(update_fields=["ack_version", "ack_status", "updated_at"])
    return submission


def _current_submission(*, tenant, purchase_order) -> Submission | None:
    return Submission.objects.filter(
        tenant=tenant, account_id=purchase_order.account_id,
        document_type=DocumentType.ACKNOWLEDGEMENT, document_ref=purchase_order.number,
        document_version=purchase_order.ack_version,
    ).first()


@transaction.atomic
def acknowledgement_send(*, tenant, purchase_order, actor=None) -> Submission:
    """Send the reviewed plan: a new version, submitted exactly once.

    Asking again while that version is queued, sent or accepted returns
    its submission and sends nothing. An update after the first sending
    must come within Amazon's 48-hour window.
    """
    now = timezone.now()
    po = purchase_order_lock(tenant=tenant, purchase_order_id=purchase_order.pk)
    if po is None:
        raise NotFoundError(PO_NOT_FOUND)
    if po.ack_status in (AckStatus.QUEUED, *SENT_STATUSES):
        current = _current_submission(tenant=tenant, purchase_order=po)
        if current is not None:
            return current
    if po.ack_status not in EDITABLE:
        raise ApplicationError(
            CANNOT_SEND.format(number=po.number, status=po.get_ack_status_display())
        )
    _update_window_check(tenant=tenant, purchase_order=po, now=now)
    lines = purchase_order_lines_lock(tenant=tenant, purchase_order_ids=[po.pk])
    submission = _acknowledgement_submit(tenant=tenant, purchase_order=po, lines=lines)
    if actor is not None:
        audit_record(actor=actor, action=AuditAction.ACTION, instance=po,
                     summary=f"Acknowledgement v{po.ack_version} of {po.number} sent",
                     after={"ack_version": po.ack_version})
    return submission


def acknowledgements_send_bulk(*, tenant, purchase_order_ids, actor=None) -> dict:
    """Send several reviewed plans; one PO's refusal does not stop others."""
    sent, refused = [], {}
    purchase_orders = PurchaseOrder.objects.filter(
        tenant=tenant, pk__in=list(purchase_order_ids)
    ).order_by("pk")
    for po in purchase_orders:
        try:
            acknowledgement_send(tenant=tenant, purchase_order=po, actor=actor)
            sent.append(po.number)
        except ApplicationError as error:
            refused[po.number] = error.message
    return {"sent": sent, "refused": refused}


# --- Deadlines -------------------------------------------------------------------


def acknowledgement_deadlines_check(*, tenant, now=None) -> int:
    """Raise ACK_DEADLINE for POs due within DEADLINE_WARNING; resolve the
    ones that got acknowledged. Returns how many were raised."""
    now = now or timezone.now()
    due = (
        PurchaseOrder.objects.filter(
            tenant=tenant, ack_status__in=AWAITING, ack_deadline_at__lte=now + DEADLINE_WARNING,
        )
        .exclude(state=PurchaseOrderState.CLOSED)
        .select_related("account")
    )
    raised = 0
    for po in due:
        overdue = po.ack_deadline_at <= now
        _exception, created = channel_exception_open(
            tenant=tenant, account=po.account, kind=ExceptionKind.ACK_DEADLINE,
            subject_key=f"po:{po.pk}:ack_deadline", purchase_order=po,
            code=messages.ACK_OVERDUE if overdue else messages.ACK_DUE,
            params={"po": po.number, "deadline": f"{po.ack_deadline_at:%Y-%m-%d %H:%M}"},
            detail={"deadline": po.ack_deadline_at.isoformat()},
        )
        raised += created
    done = PurchaseOrder.objects.filter(tenant=tenant).exclude(ack_status__in=AWAITING)
    channel_exceptions_resolve(
        tenant=tenant, kind=ExceptionKind.ACK_DEADLINE,
        subject_keys=[f"po:{pk}:ack_deadline" for pk in done.filter(
            exceptions__kind=ExceptionKind.ACK_DEADLINE, exceptions__status="open",
        ).values_list("pk", flat=True)],
        resolution="Acknowledged or no longer needed.",
    )
    return raised


# --- Submission hooks (called by channels.services.submissions) -----------------


def submission_document_update(*, tenant, submission: Submission) -> None:
    """Follow the acknowledgement's submission on its PO."""
    po = PurchaseOrder.objects.select_for_update().filter(
        tenant=tenant, account_id=submission.account_id, number=submission.document_ref
    ).first()
    if po is None:
        return
    version = submission.document_version
    status = submission.status
    current = version == po.ack_version
    fields = []
    if status == SubmissionStatus.SENT:
        _event(tenant=tenant, purchase_order=po, kind=PurchaseOrderEventKind.ACK_SENT,
               key=f"ack_sent:v{version}",
               detail={"version": version, "transaction_id": submission.transaction_id})
        if current and po.ack_status == AckStatus.QUEUED:
            po.ack_status = AckStatus.SUBMITTED
            fields.append("ack_status")
        channel_exceptions_resolve(
            tenant=tenant, kind=ExceptionKind.ACK_DEADLINE,
            subject_keys=[f"po:{po.pk}:ack_deadline"], resolution="Acknowledgement sent.",
        )
    elif status == SubmissionStatus.SUCCESS:
        _event(tenant=tenant, purchase_order=po, kind=PurchaseOrderEventKind.ACK_ACCEPTED,
               key=f"ack_accepted:v{version}", detail={"version": version})
        if current:
            po.ack_status = AckStatus.ACCEPTED
            fields.append("ack_status")
        if po.acknowledged_at is None:
            po.acknowledged_at = timezone.now()
            fields.append("acknowledged_at")
        channel_exceptions_resolve(
            tenant=tenant, kind=ExceptionKind.ACK_DEADLINE,
            subject_keys=[f"po:{po.pk}:ack_deadline"], resolution="Acknowledgement accepted.",
        )
    elif status == SubmissionStatus.FAILURE:
        _event(tenant=tenant, purchase_order=po, kind=PurchaseOrderEventKind.ACK_FAILED,
               key=f"ack_failed:v{version}",
               detail={"version": version, "errors": submission.errors})
        if current:
            po.ack_status = AckStatus.FAILED
            fields.append("ack_status")
    if fields:
        po.save(update_fields=[*fields, "updated_at"])


def submission_document_find(*, client, submission: Submission) -> Presence:
    """Is this acknowledgement version at Amazon? Read-only.

    getPurchaseOrdersStatus lists each line's acknowledgements with their
    ``acknowledgementDate``; ours is unique per version (whole seconds,
    set when the version was built), so a match means Amazon has it.
    """
    acknowledgements = submission.payload.get("acknowledgements") or [{}]
    sent_date = parse_datetime(acknowledgements[0].get("acknowledgementDate"))
    page = client.get_purchase_orders_status_page(purchase_order_number=submission.document_ref)
    statuses = [s for s in page.statuses if s.purchase_order_number == submission.document_ref]
    if not statuses:
        return Presence.UNKNOWN
    for status in statuses:
        for item in status.items:
            for detail in item.acknowledgement_details:
                if detail.acknowledgement_date == sent_date:
                    return Presence.PRESENT
    return Presence.ABSENT
