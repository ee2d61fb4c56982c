"""Row locks and the retry of transient lock failures.

Fixed order, everywhere: StockLevel rows by product id (the parent), then
StockBalance rows by pk (the children), then HoldLine rows by pk. Every
service that takes more than one lock goes through these helpers, so two
transactions never wait on each other in a cycle; the retry is for the
deadlocks and serialization failures that remain possible when a caller
composes services in its own transaction order.
"""

from __future__ import annotations

import functools
import logging
import random
import time

from django.db import OperationalError, connection, transaction

from inventory.models import HoldLine, StockBalance, StockLevel

logger = logging.getLogger(__name__)

# deadlock_detected, serialization_failure, lock_not_available.
TRANSIENT_SQLSTATES = frozenset({"40P01", "40001", "55P03"})
# Five attempts with jittered backoff up to ~0.3 s cover every deadlock
# seen in the concurrency tests; a sixth would hide a real design fault.
MAX_ATTEMPTS = 5
BACKOFF_SECONDS = 0.02


def _sqlstate(exc: BaseException) -> str | None:
    cause = exc.__cause__
    return getattr(cause, "sqlstate", None) or getattr(exc, "sqlstate", None)


def retry_transient(func):
    """Re-run ``func`` on deadlock or serialization failure.

    Only when it owns the transaction: inside a caller's transaction the
    whole transaction is doomed, so the error goes to the caller.
    """

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        if transaction.get_connection().in_atomic_block:
            return func(*args, **kwargs)
        for attempt in range(1, MAX_ATTEMPTS + 1):
            try:
                return func(*args, **kwargs)
            except OperationalError as exc:
                if _sqlstate(exc) not in TRANSIENT_SQLSTATES or attempt == MAX_ATTEMPTS:
                    raise
                logger.info("Retrying %s after %s (attempt %s)", func.__name__, exc, attempt)
                time.sleep(BACKOFF_SECONDS * attempt * (1 + random.random()))
        raise AssertionError("unreachable")

    return wrapper


def stock_levels_lock(*, tenant, product_ids) -> dict[int, StockLevel]:
    """Lock the products' level rows, in product id order."""
    rows = (
        StockLevel.objects.select_for_update()
        .filter(tenant=tenant, product_id__in=sorted(set(product_ids)))
        .order_by("product_id")
    )
    return {row.product_id: row for row in rows}


# One raw statement, nothing read back: the multi-line hold placement
# takes its locks with it before its single write statement, where the ORM
# queryset (compiled per call, rows built into models) would cost more than
# the placement itself. ORDER BY with FOR UPDATE locks in the sort order.
_LEVEL_ROWS_LOCK_SQL = """
SELECT 1 FROM inventory_stocklevel
WHERE tenant_id = %s AND product_id = ANY(%s::bigint[])
ORDER BY product_id
FOR UPDATE
"""


def stock_level_rows_lock(*, tenant, product_ids) -> None:
    """Lock the products' level rows, in product id order (PostgreSQL)."""
    with connection.cursor() as cursor:
        cursor.execute(_LEVEL_ROWS_LOCK_SQL, [tenant.pk, sorted(set(product_ids))])


def stock_balances_lock(*, tenant, product_ids) -> list[StockBalance]:
    """Lock every balance row of the products, in pk order."""
    return list(
        StockBalance.objects.select_for_update(of=("self",))
        .filter(tenant=tenant, product_id__in=sorted(set(product_ids)))
        .select_related("lot", "warehouse")
        .order_by("pk")
    )


def hold_lines_lock(*, tenant, source_type: str, source_ref: str) -> list[HoldLine]:
    """Lock the open lines of a source's active holds, in pk order."""
    return list(
        HoldLine.objects.select_for_update(of=("self",))
        .filter(
            tenant=tenant, hold__source_type=source_type, hold__source_ref=source_ref,
            hold__status="active", open_quantity__gt=0,
        )
        .select_related("hold", "product")
        .order_by("pk")
    )
