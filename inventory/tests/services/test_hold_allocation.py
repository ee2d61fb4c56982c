"""The pure decisions of holds: no database, plain values in and out."""

import datetime
from types import SimpleNamespace

from inventory.services.hold_allocation import (
    balances_ship_order,
    balances_take,
    open_lines_take,
    placement_matches,
    units_by_product,
)
from inventory.services.hold_requests import hold_line_parse


def _line(pk, product_id, open_quantity, line_ref=""):
    return SimpleNamespace(pk=pk, product_id=product_id, open_quantity=open_quantity,
                           line_ref=line_ref)


def test_units_by_product_adds_lines_of_one_product():
    assert units_by_product([7, 3, 7], [2, 3, 1]) == {7: 3, 3: 3}


def test_open_lines_take_remembers_what_earlier_requests_took():
    """Two requests for one product share its open lines without taking a
    unit twice; the lines themselves are not changed."""
    lines = [_line(1, 5, 2), _line(2, 5, 3), _line(3, 6, 4)]
    taken = {}
    first, missing = open_lines_take(lines, taken=taken, product_id=5, line_ref="", quantity=3)
    assert [(t.line.pk, t.quantity) for t in first] == [(1, 2), (2, 1)] and missing == 0
    second, missing = open_lines_take(lines, taken=taken, product_id=5, line_ref="", quantity=4)
    assert [(t.line.pk, t.quantity) for t in second] == [(2, 2)] and missing == 2
    assert taken == {1: 2, 2: 3}
    assert [line.open_quantity for line in lines] == [2, 3, 4]


def test_open_lines_take_everything_or_one_line_ref():
    lines = [_line(1, 5, 2, "1"), _line(2, 5, 3, "2")]
    everything, missing = open_lines_take(lines, taken={}, product_id=5, line_ref="",
                                          quantity=None)
    assert [(t.line.pk, t.quantity) for t in everything] == [(1, 2), (2, 3)] and missing == 0
    only, _ = open_lines_take(lines, taken={}, product_id=5, line_ref="2", quantity=None)
    assert [(t.line.pk, t.quantity) for t in only] == [(2, 3)]


def test_balances_ship_first_expiring_first_within_the_asked_site_and_lot():
    today = datetime.date(2026, 12, 1)
    north, south = SimpleNamespace(code="N"), SimpleNamespace(code="S")
    late = SimpleNamespace(expires_on=datetime.date(2027, 6, 1))
    soon = SimpleNamespace(expires_on=datetime.date(2027, 1, 1))

    def balance(pk, warehouse, lot, on_hand, warehouse_id, lot_id):
        return SimpleNamespace(pk=pk, product_id=9, warehouse=warehouse, lot=lot,
                               on_hand=on_hand, warehouse_id=warehouse_id, lot_id=lot_id)

    balances = balances_ship_order([
        balance(1, south, None, 5, 2, None), balance(2, north, late, 5, 1, 11),
        balance(3, south, soon, 5, 2, 12),
    ], today=today)
    assert [b.pk for b in balances] == [3, 2, 1]
    free = {b.pk: b.on_hand for b in balances}
    shares, missing = balances_take(balances, free=free, product_id=9, quantity=7)
    assert [(b.pk, q) for b, q in shares] == [(3, 5), (2, 2)] and missing == 0
    shares, missing = balances_take(balances, free=free, product_id=9, quantity=9,
                                    warehouse_id=2)
    assert [(b.pk, q) for b, q in shares] == [(1, 5)] and missing == 4
    assert free == {3: 0, 2: 3, 1: 0}


def test_a_replay_matches_in_any_line_order_only():
    assert placement_matches([(1, 2, "a"), (3, 1, "b")], [(3, 1, "b"), (1, 2, "a")])
    assert not placement_matches([(1, 2, "a")], [(1, 3, "a")])


def test_a_line_names_its_product_once_whichever_key_the_caller_used():
    assert {hold_line_parse({key: "X", "quantity": "2"}).product
            for key in ("product", "product_id", "sku")} == {"X"}
    request = hold_line_parse({"sku": "X", "quantity": 2, "line_ref": 4, "lot": "L1"})
    assert (request.quantity, request.line_ref, request.lot, request.warehouse) == (
        2, "4", "L1", None)
