"""getPurchaseOrders page chains and their prefetching, for bulk readers.

A range is read as a chain of pages, each bringing the next page's token,
and one answer takes Amazon a few hundred ms: a long range is cut into
ranges of at most a day (``page_chains``), and ``PagePrefetcher`` reads a
few chains at once in threads, under the client's shared token bucket, so
a sync uses the whole rate. None of this knows a tenant: the pages are
Amazon's (unparsed, ``RawPurchaseOrderPage``), and what a reader does
with them (``prepare``, the call hook) is its business.
"""

from __future__ import annotations

import collections
import datetime
import queue
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from vendor_api.operations.orders import MAX_PAGE_SIZE, RawPurchaseOrderPage, split_windows

CHAIN_SPAN = datetime.timedelta(days=1)
FETCH_WORKERS = 3
# Pages fetched and prepared ahead of the reader: bounds the memory of a
# sync (a page of 100 POs x 10 lines is ~400 KB of JSON) whatever its size.
PREFETCH_DEPTH = 4


@dataclass(frozen=True, slots=True)
class PageChain:
    """One range of getPurchaseOrders: ``by`` is "created" or "changed"."""

    by: str
    start: datetime.datetime
    end: datetime.datetime


def page_chains(*, passes, after, before, span=CHAIN_SPAN) -> list[PageChain]:
    """Ranges of at most ``span`` covering [after, before], per pass, each
    inside one of Amazon's 7-day windows."""
    chains = []
    for by in passes:
        for window_start, window_end in split_windows(after=after, before=before):
            start = window_start
            while start < window_end:
                end = min(start + span, window_end)
                chains.append(PageChain(by=by, start=start, end=end))
                start = end
    return chains


def chain_pages(client, *, by, start, end) -> Iterator[RawPurchaseOrderPage]:
    """Every raw getPurchaseOrders page of one range (created|changed)."""
    bounds = (
        {"created_after": start, "created_before": end}
        if by == "created"
        else {"changed_after": start, "changed_before": end}
    )
    next_token = None
    while True:
        page = client.get_purchase_orders_raw_page(
            **bounds, limit=MAX_PAGE_SIZE, next_token=next_token
        )
        yield page
        if not page.next_token:
            break
        next_token = page.next_token


def raw_pages(client, *, passes, after, before) -> Iterator[RawPurchaseOrderPage]:
    """All raw pages, one chain after the other (no threads)."""
    for chain in page_chains(passes=passes, after=after, before=before):
        yield from chain_pages(client, by=chain.by, start=chain.start, end=chain.end)


class PagePrefetcher:
    """Iterate the raw pages (through ``prepare``), fetched and prepared by
    ``workers`` threads, each reading one range's chain of pages at a time.

    Use as a context manager. The threads only make HTTP calls (the shared
    token bucket paces them) and run ``prepare`` (one at a time): the
    client's call hook is buffered and run in the caller's thread (e.g.
    on its database connection) as each page is handed over and on exit.
    At most ``depth`` prepared pages wait for the caller. An error in a
    thread (e.g. re-authorization needed) is raised in the caller and
    stops the other threads.
    """

    _DONE = object()

    def __init__(self, client, *, passes, after, before,
                 prepare: Callable[[RawPurchaseOrderPage], object] | None = None,
                 workers: int = FETCH_WORKERS, depth: int = PREFETCH_DEPTH):
        self.client = client
        self.prepare = prepare or (lambda page: page)
        self.prepare_lock = threading.Lock()
        self.chains: queue.SimpleQueue = queue.SimpleQueue()
        for chain in page_chains(passes=passes, after=after, before=before):
            self.chains.put(chain)
        self.queue: queue.Queue = queue.Queue(maxsize=depth)
        self.stop = threading.Event()
        self.records: collections.deque = collections.deque()
        self.hook = None
        self.running = max(1, workers)
        self.running_lock = threading.Lock()
        self.threads = [
            threading.Thread(target=self._run, name=f"po-sync-fetch-{n}", daemon=True)
            for n in range(self.running)
        ]

    def __enter__(self) -> PagePrefetcher:
        transport = self.client.transport
        self.hook = transport.call_hook
        if self.hook is not None:
            transport.call_hook = self.records.append
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self.stop.set()
        for thread in self.threads:
            thread.join()
        self.client.transport.call_hook = self.hook
        self.flush()

    def flush(self) -> None:
        while self.records:
            self.hook(self.records.popleft())

    def _offer(self, item) -> bool:
        while not self.stop.is_set():
            try:
                self.queue.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def _run(self) -> None:
        try:
            while not self.stop.is_set():
                try:
                    chain = self.chains.get_nowait()
                except queue.Empty:
                    break
                for page in chain_pages(self.client, by=chain.by, start=chain.start,
                                        end=chain.end):
                    with self.prepare_lock:
                        prepared = self.prepare(page)
                    if not self._offer(prepared):
                        return
        except BaseException as error:  # noqa: BLE001 - handed to the caller
            self._offer(error)
            self.stop.set()
            return
        with self.running_lock:
            self.running -= 1
            last = self.running == 0
        if last:
            self._offer(self._DONE)

    def __iter__(self):
        while True:
            item = self.queue.get()
            self.flush()
            if item is self._DONE:
                return
            if isinstance(item, BaseException):
                raise item
            yield item
