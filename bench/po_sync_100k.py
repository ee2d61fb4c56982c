"""po_sync_100k: po_sync at 100,000 POs x 10 lines over 180 days.

A large vendor's six-month backfill: 1,000 pages at Amazon's 10 pages/s
(about 110 s of rate limit), after the sandbox has generated a million
lines (about 2 minutes). Part of ``make bench`` (``make bench
ONLY=po_sync_100k`` alone); the no-change re-sync is left to po_sync at
20,000. Reports po_sync's figures under the ``po_sync_100k`` prefix: the
ratio to the rate-limit ideal and the worker's peak memory, which must
not grow with the size.
"""

from __future__ import annotations

from bench import po_sync

PURCHASE_ORDERS = 100_000
DAYS = 180.0


def run(report) -> None:
    # The no-change re-sync (another 10,000 pages) is po_sync's at 20,000.
    po_sync.run(report, purchase_orders=PURCHASE_ORDERS, days=DAYS, name="po_sync_100k",
                resync=False)
