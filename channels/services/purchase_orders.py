"""PO sync from Amazon: getPurchaseOrders and getPurchaseOrdersStatus.

``purchase_orders_sync`` asks for the POs created and changed since the
account's high-water mark (minus an overlap, so a late write at Amazon is
never skipped), all 7-day windows and all pages; the first sync of an
account reads the created range only (everything in it is new). The pages
come from ``vendor_api.paging`` (chains of pages read a few at once) and
each goes through three steps: ``purchase_order_parse`` (dedupe, hash,
vendor_api's typed parse), ``purchase_order_changes`` (a pure decision of
what changed) and ``purchase_order_write`` (one transaction per page, a
handful of set-based statements):

- a PO whose canonical JSON hash is unchanged is skipped before it is
  parsed (a re-sync of unchanged data writes nothing);
- POs and lines are upserted by their unique keys (INSERT .. ON CONFLICT
  DO UPDATE), events and exceptions are inserted ON CONFLICT DO NOTHING
  under deterministic dedupe keys, so two workers syncing the same
  account at once yield one PO and no duplicate facts;
- lines are mapped through SkuMapping; a PO with an unmapped (non-zero)
  line is BLOCKED and gets one UNMAPPED_LINE exception per line; other POs
  are handed to acknowledgement planning after commit.
"""

from __future__ import annotations

import contextlib
import datetime
import logging
import threading
from collections import Counter

from django.db import transaction
from django.db.models import Max, Q
from django.utils import timezone

from acorn.dependencies import (
    DATABASE_ERRORS,
    DEPENDENCY_UNAVAILABLE,
    database_connections_reset,
    dependency_of,
)
from acorn.messages import message_store
from channels import message_codes as messages
from channels.models import (
    AccountStatus,
    AckStatus,
    AmazonVendorAccount,
    ChannelException,
    ExceptionKind,
    PurchaseOrder,
    PurchaseOrderEvent,
    PurchaseOrderEventKind,
    PurchaseOrderLine,
    PurchaseOrderState,
    SkuMapping,
    SyncKind,
)
from channels.selectors.observability import api_call_last_request_id
from channels.services.accounts import account_mark_reauth_needed
from channels.services.acknowledgements import (
    acknowledgement_holds_sync,
    acknowledgement_plan,
)
from channels.services.clients import account_client_build
from channels.services.exceptions import channel_exception_open, channel_exceptions_resolve
from channels.services.purchase_order_changes import MappingIndex
from channels.services.purchase_order_parse import PagePreparer
from channels.services.purchase_order_write import (
    PAGE_WRITERS,
    pages_write,
    purchase_order_page_write,
)
from channels.services.runs import (
    sync_run_fail,
    sync_run_fail_after_error,
    sync_run_finish,
    sync_run_start,
)
from vendor_api.errors import ReauthorizationRequired, SpApiError
from vendor_api.operations.orders import MAX_PAGE_SIZE, split_windows
from vendor_api.paging import PagePrefetcher, raw_pages

logger = logging.getLogger(__name__)

# Re-read this much before the stored high-water mark: Amazon's clocks and
# replication can make a change visible a little after its timestamp.
SYNC_OVERLAP = datetime.timedelta(minutes=10)

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


def _event(*, tenant, po_id: int, kind: str, key: str, at, detail=None) -> PurchaseOrderEvent:
    return PurchaseOrderEvent(
        tenant=tenant, purchase_order_id=po_id, kind=kind, dedupe_key=key[:200],
        occurred_at=at, detail=detail or {}, actor_label="amazon",
    )


def _message_fields(code: str, **params) -> dict:
    """A ChannelException's message fields for ``code`` (acorn.messages)."""
    code, params, english = message_store(code, **params)
    return {"message": english[:500], "message_code": code, "message_params": params}


def _sync_failed(*, tenant, account, run, error, kind: str, counts) -> None:

    sync_run_fail(tenant=tenant, run=run, error=error, counts=dict(counts))
    if isinstance(error, ReauthorizationRequired):
        account_mark_reauth_needed(tenant=tenant, account=account, error=error)
        return
    channel_exception_open(
        tenant=tenant, account=account, kind=ExceptionKind.SYNC_FAILED,
        subject_key=f"account:{account.pk}:{kind}",
        code=messages.SYNC_FAILED,
        params={"kind_label": SyncKind(kind).label, "account": account.name,
                "error": f"{getattr(error, 'error_code', '')} "
                         f"{getattr(error, 'message', str(error))}".strip()[:300]},
        detail={"request_id": getattr(error, "request_id", "") or "", "run": run.pk},
    )


def _sync_crashed(*, tenant, account, run, error, kind: str, counts):
    """Any other error: the run ends FAILED with the reason and the work
    queue shows it. An outage (Redis, broker, PostgreSQL) returns the run:
    the next beat tick retries (``accounts_due_for_sync``). Anything else is
    a defect and is raised on, so the worker logs its traceback."""
    if not sync_run_fail_after_error(tenant=tenant, run=run, error=error, counts=dict(counts)):
        return run  # the database is still down: the sweeper fails the run later
    try:
        channel_exception_open(
            tenant=tenant, account=account, kind=ExceptionKind.SYNC_FAILED,
            subject_key=f"account:{account.pk}:{kind}",
            code=messages.SYNC_FAILED,
            params={"kind_label": SyncKind(kind).label, "account": account.name,
                    "error": f"{run.error_code} {run.error_message}".strip()[:300]},
            detail={"run": run.pk, "error_code": run.error_code},
        )
    except DATABASE_ERRORS:
        database_connections_reset()
    if dependency_of(error) is None:
        raise error
    logger.warning("%s sync of account %s stopped by an outage: %s", kind, account.pk,
                   run.error_message)
    return run


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
    plan: bool = True, prefetch: bool = True, **client_options,
):
    """Pull new and changed POs of ``account``; returns the SyncRun (None
    when the account is not active, e.g. waiting for re-authorization).

    ``prefetch`` fetches the next page in a thread while one is written.
    """

    account = AmazonVendorAccount.objects.filter(tenant=tenant, pk=account.pk).first()
    if account is None or account.status != AccountStatus.ACTIVE:
        return None
    # Amazon's timestamps have whole seconds: the window ends on one, and
    # the overlap re-reads what landed in the last (partial) second.
    now = (now or timezone.now()).replace(microsecond=0)
    after, before = _window(account=account, high_water=account.po_changed_high_water, now=now)
    # Created and changed ranges both (spapi-vendor.md §11.4); before the
    # first sync every PO in the window is new, so the created range is all.
    passes = ("created",) if account.po_changed_high_water is None else ("created", "changed")
    run = sync_run_start(tenant=tenant, account=account, kind=SyncKind.PURCHASE_ORDERS,
                         window_start=after, window_end=before)
    counts: Counter = Counter()
    mappings = mapping_index_load(tenant=tenant, account=account)
    preparer = PagePreparer(speculate=len(passes) == 1)
    page_options = {"passes": passes, "after": after, "before": before}
    counts_lock = threading.Lock()

    def write(page) -> None:
        page_counts: Counter = Counter(pages=1, orders_seen=page.listed)
        to_plan = purchase_order_page_write(
            tenant=tenant, account=account, page=page, mappings=mappings,
            counts=page_counts, preparer=preparer,
        )
        with counts_lock:
            counts.update(page_counts)
        if plan and to_plan:
            purchase_orders_plan_enqueue(tenant=tenant, purchase_order_ids=to_plan)

    try:
        with account_client_build(account=account, **client_options) as client, (
            PagePrefetcher(client, prepare=preparer, **page_options) if prefetch
            else contextlib.nullcontext(map(preparer, raw_pages(client, **page_options)))
        ) as pages:
            pages_write(pages, write, tenant=tenant, workers=PAGE_WRITERS if prefetch else 1)
    except SpApiError as error:
        _sync_failed(tenant=tenant, account=account, run=run, error=error,
                     kind=SyncKind.PURCHASE_ORDERS, counts=counts)
        return run
    except Exception as error:
        return _sync_crashed(tenant=tenant, account=account, run=run, error=error,
                             kind=SyncKind.PURCHASE_ORDERS, counts=counts)
    AmazonVendorAccount.objects.filter(tenant=tenant, pk=account.pk).update(
        po_changed_high_water=before, updated_at=timezone.now()
    )
    _sync_succeeded(tenant=tenant, account=account, kind=SyncKind.PURCHASE_ORDERS)
    return sync_run_finish(
        tenant=tenant, run=run, counts={"orders_unique": len(preparer.seen), **counts},
        request_id=api_call_last_request_id(tenant=tenant, account=account),
    )


def purchase_orders_plan_enqueue(*, tenant, purchase_order_ids: list[int]) -> None:
    """Hand POs to acknowledgement planning after the page commits."""
    # Imported here: channels.tasks.purchase_orders imports this module (breaks the cycle).
    from channels.tasks.purchase_orders import purchase_orders_plan_task

    ids = list(purchase_order_ids)
    transaction.on_commit(
        lambda: purchase_orders_plan_task.delay(tenant_id=tenant.pk, purchase_order_ids=ids)
    )


def purchase_orders_plan(*, tenant, purchase_order_ids: list[int]) -> int:
    """Plan each PO still waiting for a plan; for a PO Amazon changed or
    closed after we acknowledged it, bring its holds in line (a cancelled
    line releases its units, a closed PO all of them)."""

    handled = 0
    purchase_orders = PurchaseOrder.objects.filter(
        tenant=tenant, pk__in=list(purchase_order_ids)
    ).select_related("account")
    for purchase_order in purchase_orders:
        if purchase_order.ack_status == AckStatus.PENDING:
            acknowledgement_plan(tenant=tenant, purchase_order=purchase_order)
        elif purchase_order.changed_after_ack or purchase_order.state == PurchaseOrderState.CLOSED:
            acknowledgement_holds_sync(
                tenant=tenant, purchase_order=purchase_order, reason="changed by Amazon"
            )
        else:
            continue
        handled += 1
    return handled


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
                    **_message_fields(
                        messages.SHORTAGE, po=po.number, line=line.item_sequence_number,
                        received=received, shipped=line.shipped_quantity, short=short),
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
    except Exception as error:
        return _sync_crashed(tenant=tenant, account=account, run=run, error=error,
                             kind=SyncKind.PURCHASE_ORDER_STATUS, counts=counts)
    AmazonVendorAccount.objects.filter(tenant=tenant, pk=account.pk).update(
        po_status_high_water=before, updated_at=timezone.now()
    )
    _sync_succeeded(tenant=tenant, account=account, kind=SyncKind.PURCHASE_ORDER_STATUS)
    return sync_run_finish(
        tenant=tenant, run=run, counts=dict(counts),
        request_id=api_call_last_request_id(tenant=tenant, account=account),
    )


def accounts_due_for_sync(*, tenant, kind: str, now: datetime.datetime | None = None):
    """Active accounts whose poll interval has passed since their last run of ``kind``."""

    now = now or timezone.now()
    due = []
    accounts = AmazonVendorAccount.objects.filter(
        tenant=tenant, status=AccountStatus.ACTIVE
    ).annotate(
        # A run an outage stopped does not count: the account is due again
        # on the next tick, so syncing resumes as soon as the dependency does.
        last_run=Max("sync_runs__started_at", filter=Q(sync_runs__kind=kind) & ~Q(
            sync_runs__error_code=DEPENDENCY_UNAVAILABLE))
    )
    for account in accounts:
        interval = datetime.timedelta(minutes=max(1, account.poll_interval_minutes))
        if account.last_run is None or account.last_run + interval <= now:
            due.append(account)
    return due
