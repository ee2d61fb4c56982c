"""Holds under real concurrency: threads, each with its own connection.

Every thread runs its own tenant scope and transaction on PostgreSQL, as
web workers and Celery tasks do.
"""

import threading
import time

import pytest
from django.db import connection, connections
from django.db.models import F

from acorn.services import tenant_create
from acorn.tenancy import tenant_scope
from inventory.models import Hold, HoldLine, StockLevel
from inventory.selectors import atp_for_products, stock_consistency_check
from inventory.services import InsufficientStockError, stock_hold_place, stock_receive
from inventory.tests.factories import ProductFactory, WarehouseFactory

WORKERS = 50
UNITS = 10


def _race(tenant, rounds: int, attempt):
    """Run ``attempt(round, worker)`` in WORKERS threads, ``rounds`` times.

    Threads live for all rounds (one connection each) and start every
    round together at a barrier. Returns the results per round.
    """
    start = threading.Barrier(WORKERS + 1)
    done = threading.Barrier(WORKERS + 1)
    results = [[None] * WORKERS for _ in range(rounds)]
    errors = []

    def worker(index):
        try:
            for round_no in range(rounds):
                start.wait()
                try:
                    with tenant_scope(tenant, atomic=False):
                        results[round_no][index] = attempt(round_no, index)
                except Exception as exc:  # noqa: BLE001 - reported below
                    errors.append(exc)
                done.wait()
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(WORKERS)]
    for thread in threads:
        thread.start()
    for _ in range(rounds):
        start.wait()
        done.wait()
    for thread in threads:
        thread.join()
    return results, errors


def _products(tenant, count, units):
    with tenant_scope(tenant):
        warehouse = WarehouseFactory(tenant=tenant)
        products = [ProductFactory(tenant=tenant) for _ in range(count)]
        for product in products:
            stock_receive(tenant=tenant, product=product, warehouse=warehouse, quantity=units)
    return products


def _hold(tenant, lines, key):
    try:
        stock_hold_place(
            tenant=tenant, lines=lines, source_type="amazon_po", source_ref=key,
            idempotency_key=key, channel="amazon_vendor",
        )
        return True
    except InsufficientStockError:
        return False


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_fifty_concurrent_holds_on_ten_units_never_oversell():
    """In each of 100 rounds exactly 10 of 50 one-unit holds succeed."""
    tenant = tenant_create(slug="race", name="Race")
    rounds = 100
    products = _products(tenant, rounds, UNITS)
    results, errors = _race(
        tenant, rounds,
        lambda r, i: _hold(tenant, [{"product_id": products[r].pk, "quantity": 1}], f"{r}:{i}"),
    )
    assert errors == []
    assert [sum(1 for ok in row if ok) for row in results] == [UNITS] * rounds
    with tenant_scope(tenant):
        atp = atp_for_products(tenant=tenant, channel="amazon_vendor")
        assert {row.available for row in atp.values()} == {0}
        assert {row.held for row in atp.values()} == {UNITS}
        assert stock_consistency_check(tenant=tenant) == []


@pytest.mark.django_db(transaction=True)
def test_concurrent_multi_line_holds_are_all_or_nothing():
    """Two-line holds in both line orders: no partial holds, no deadlock."""
    tenant = tenant_create(slug="race2", name="Race 2")
    rounds = 10
    products = _products(tenant, 2 * rounds, UNITS)

    def attempt(r, i):
        a, b = products[2 * r], products[2 * r + 1]
        lines = [{"product_id": a.pk, "quantity": 1}, {"product_id": b.pk, "quantity": 1 + i % 2}]
        return _hold(tenant, lines[:: 1 if i % 3 else -1], f"{r}:{i}")

    results, errors = _race(tenant, rounds, attempt)
    assert errors == []
    assert all(any(row) for row in results)
    with tenant_scope(tenant):
        # Every hold has both lines; the levels equal what the holds promise.
        assert not Hold.objects.exclude(pk__in=HoldLine.objects.values("hold")).exists()
        line_counts = {h.pk: h.lines.count() for h in Hold.objects.all()}
        assert set(line_counts.values()) == {2}
        levels = StockLevel.objects.filter(product__in=products)
        assert all(level.held <= level.on_hand for level in levels)
        assert stock_consistency_check(tenant=tenant) == []


@pytest.mark.django_db(transaction=True)
def test_naive_read_modify_write_oversells():
    """Control: a read-then-write promise oversells under the same race,
    so the tests above would see an oversell if there were one."""
    tenant = tenant_create(slug="naive", name="Naive")
    rounds = 3
    products = _products(tenant, rounds, UNITS)

    def naive(r, i):
        level = StockLevel.objects.get(product_id=products[r].pk)
        time.sleep(0.002)
        if level.on_hand - level.held >= 1:
            StockLevel.objects.filter(pk=level.pk).update(held=level.held + 1)
            return True
        return False

    results, errors = _race(tenant, rounds, naive)
    assert errors == []
    assert max(sum(1 for ok in row if ok) for row in results) > UNITS


@pytest.mark.django_db(transaction=True)
def test_check_constraint_stops_unconditional_increment():
    """Backstop: an increment without the availability condition is
    refused by the database once the units are all promised."""
    tenant = tenant_create(slug="backstop", name="Backstop")
    products = _products(tenant, 1, UNITS)

    def blind(r, i):
        StockLevel.objects.filter(product_id=products[0].pk).update(held=F("held") + 1)
        return True

    results, errors = _race(tenant, 1, blind)
    assert sum(1 for ok in results[0] if ok) == UNITS
    assert len(errors) == WORKERS - UNITS
    assert all("inv_level_not_overpromised" in str(error) for error in errors)
    assert connection.vendor == "postgresql"


@pytest.mark.django_db(transaction=True)
def test_concurrent_replays_of_one_key_hold_once():
    """50 placements under one key at once: one hold; the same request gets
    that hold back, a different one is refused with KEY_REUSED."""
    from acorn.exceptions import ConflictError
    from inventory.services.holds import KEY_REUSED

    tenant = tenant_create(slug="replay", name="Replay")
    rounds = 5
    products = _products(tenant, rounds, 1000)

    def attempt(r, i):
        try:
            hold = stock_hold_place(
                tenant=tenant, lines=[{"product_id": products[r].pk, "quantity": 1 + i % 2}],
                source_type="amazon_po", source_ref=f"PO{r}", idempotency_key=f"po:{r}",
            )
            return ("hold", hold.pk, 1 + i % 2)
        except ConflictError as exc:
            assert str(exc.message) == KEY_REUSED.format(key=f"po:{r}")
            return ("conflict", None, 1 + i % 2)

    results, errors = _race(tenant, rounds, attempt)
    assert errors == []
    with tenant_scope(tenant):
        for r, row in enumerate(results):
            hold = Hold.objects.get(idempotency_key=f"po:{r}")
            quantity = hold.lines.get().quantity
            assert {pk for kind, pk, _ in row if kind == "hold"} == {hold.pk}
            # Every request like the first got its hold; every other was refused.
            assert all((kind == "hold") == (q == quantity) for kind, _, q in row)
            assert StockLevel.objects.get(product=products[r]).held == quantity
        assert stock_consistency_check(tenant=tenant) == []
