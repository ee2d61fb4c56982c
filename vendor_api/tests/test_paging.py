"""Page chains and their prefetching over the sandbox (no tenant anywhere)."""

import datetime
import threading

import pytest

from vendor_api.paging import PagePrefetcher, page_chains, raw_pages

NOW = datetime.datetime.now(tz=datetime.UTC).replace(microsecond=0)


def test_chains_are_at_most_a_day_inside_seven_day_windows_per_pass():
    after = NOW - datetime.timedelta(days=9, hours=5)
    chains = page_chains(passes=("created", "changed"), after=after, before=NOW)
    for by in ("created", "changed"):
        mine = [chain for chain in chains if chain.by == by]
        # They tile the range, none longer than a day or across a 7-day window
        assert mine[0].start == after and mine[-1].end == NOW
        assert all(a.end == b.start for a, b in zip(mine, mine[1:], strict=False))
        assert all(chain.end - chain.start <= datetime.timedelta(days=1) for chain in mine)
        assert any(chain.end == after + datetime.timedelta(days=7) for chain in mine)
    # 9 days 5 hours: 7 chains in the first window, 1 + 1 + 5 hours in the second
    assert len(chains) == 2 * 10


def test_prefetched_pages_are_the_sequential_pages_and_the_hook_runs_in_the_reader(
    client, sandbox, call_log
):
    """Three threads fetch; the reader gets every page once and every call
    is logged by the reader's thread."""
    # Given 150 POs over 3 days (several chains, several pages each)
    sandbox.state.generate(vendor_code="DEMO1", count=150, days=3)
    bounds = {"passes": ("created",), "after": NOW - datetime.timedelta(days=3, minutes=1),
              "before": NOW + datetime.timedelta(minutes=1)}
    sequential = sorted(order["purchaseOrderNumber"] for page in raw_pages(client, **bounds)
                        for order in page.orders)
    calls = len(call_log)
    hook_threads = set()
    hook = client.transport.call_hook
    client.transport.call_hook = lambda record: (
        hook_threads.add(threading.current_thread().name), hook(record))
    # When the prefetcher reads the same range with pages prepared in its threads
    prepared_in = set()

    def prepare(page):
        prepared_in.add(threading.current_thread().name)
        return page

    with PagePrefetcher(client, prepare=prepare, **bounds) as pages:
        prefetched = sorted(order["purchaseOrderNumber"] for page in pages
                            for order in page.orders)
    # Then the same orders came, prepared in the fetch threads, and every
    # call was logged in this thread
    assert prefetched == sequential and len(set(sequential)) >= 150
    assert prepared_in and all(name.startswith("po-sync-fetch-") for name in prepared_in)
    assert hook_threads == {threading.current_thread().name}
    assert len(call_log) - calls == calls


def test_an_error_in_a_fetch_thread_reaches_the_reader(client, sandbox):
    sandbox.state.generate(vendor_code="DEMO1", count=20, days=2)

    def prepare(page):
        raise RuntimeError("bad page")

    with pytest.raises(RuntimeError, match="bad page"), PagePrefetcher(
        client, prepare=prepare, passes=("created",), after=NOW - datetime.timedelta(days=2),
        before=NOW,
    ) as pages:
        list(pages)
