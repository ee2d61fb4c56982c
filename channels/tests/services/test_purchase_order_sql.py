"""The hand-written SQL of the two hot paths agrees with the models.

Each INSERT lists every column of its table (a new field cannot be
dropped silently: this test fails until the statement writes it or the
field is named below with the reason it is left to NULL), each recordset
column is a value the decision produces, and every ON CONFLICT names its
constraint: ON CONSTRAINT with a unique constraint of the table, or, for
a partial unique index (which ON CONSTRAINT cannot name), its columns and
predicate exactly.
"""

import re

import pytest
from django.apps import apps
from django.db import connection
from django.db.models import UniqueConstraint
from django.utils import timezone

from channels.services import purchase_order_write
from channels.services.purchase_order_changes import (
    MappingIndex,
    StoredPurchaseOrder,
    purchase_order_changes_decide,
)
from inventory.services import outbox
from vendor_api.operations.orders import PurchaseOrder as ApiPurchaseOrder

# Columns an INSERT leaves NULL on purpose, by table, with the reason.
LEFT_NULL = {
    # Set by the status sync and by the acknowledgement's submission.
    "channels_purchaseorder": {"amazon_status_updated_at", "acknowledged_at"},
    # Set by the status sync (Amazon's acceptance and receiving) and by
    # acknowledgement planning (our acknowledged cost and dates).
    "channels_purchaseorderline": {
        "amazon_accepted_quantity", "amazon_rejected_quantity", "received_quantity",
        "last_received_at", "ack_net_cost", "scheduled_ship_date", "scheduled_delivery_date",
    },
    # Set when a drainer claims the change (atp_change_claim).
    "inventory_atpchange": {"claimed_at"},
}

_INSERT = re.compile(r"INSERT\s+INTO\s+(\w+)(?:\s+AS\s+\w+)?\s*\(([^)]*)\)", re.I)
_RECORDSET = re.compile(r"json_to_recordset\(%\(rows\)s::json\)\s+AS\s+r\((.*?)\)\s*\n",
                        re.I | re.S)
_CONFLICT = re.compile(
    r"ON\s+CONFLICT\s+(?:ON\s+CONSTRAINT\s+(\w+)|\(([^)]*)\)\s*(?:WHERE\s+(.+?))?)\s+DO\b",
    re.I | re.S)


def _model(table):
    return next(m for m in apps.get_models() if m._meta.db_table == table)


def _columns(text):
    return [name.strip() for name in text.split(",") if name.strip()]


def _hold_function_sql():
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_get_functiondef('inventory_hold_place'::regproc)")
        return cursor.fetchone()[0]


def _statements():
    """(name, SQL text) of every hand-written write of the hot paths."""
    statements = [
        (name, getattr(purchase_order_write, name))
        for name in ("_PO_UPSERT_SQL", "_LINE_UPSERT_SQL", "_EVENT_INSERT_SQL",
                     "_EXCEPTION_INSERT_SQL")
    ]
    statements.append(("ATP_MARK_UPSERT", outbox.ATP_MARK_UPSERT))
    statements.append(("inventory_hold_place()", _hold_function_sql()))
    return statements


@pytest.mark.django_db
def test_every_insert_lists_every_column_of_its_model():
    inserts = 0
    for name, sql in _statements():
        for table, columns in _INSERT.findall(sql):
            inserts += 1
            model = _model(table)
            expected = {f.column for f in model._meta.concrete_fields if not f.primary_key}
            listed = _columns(columns)
            assert len(listed) == len(set(listed)), name
            assert set(listed) == expected - LEFT_NULL.get(table, set()), (
                name, table, sorted(expected - set(listed)), sorted(set(listed) - expected))
            assert not set(listed) & LEFT_NULL.get(table, set()), (name, table)
    # POs, lines, events, exceptions, the outbox, and the hold, its lines
    # and the outbox again in the placement function.
    assert inserts == 8


@pytest.mark.django_db
def test_every_on_conflict_names_a_unique_constraint_of_its_table():
    conflicts = 0
    with connection.cursor() as cursor:
        cursor.execute("SELECT conname FROM pg_constraint WHERE contype = 'u'")
        in_database = {row[0] for row in cursor.fetchall()}
    for name, sql in _statements():
        # Every ON CONFLICT is one the pattern below reads.
        assert len(re.findall(r"ON\s+CONFLICT", sql, re.I)) == len(_CONFLICT.findall(sql)), name
        starts = [match.start() for match in _INSERT.finditer(sql)] + [len(sql)]
        for match, end in zip(_INSERT.finditer(sql), starts[1:], strict=True):
            conflict = _CONFLICT.search(sql, match.end(), end)
            if conflict is None:
                continue
            table = match.group(1)
            constraint, columns, predicate = conflict.groups()
            conflicts += 1
            model = _model(table)
            uniques = {c.name: c for c in model._meta.constraints
                       if isinstance(c, UniqueConstraint)}
            if constraint:
                assert constraint in uniques, (name, constraint)
                assert uniques[constraint].condition is None, (name, constraint)
                assert constraint in in_database, (name, constraint)
                continue
            # A partial unique index: its columns and predicate, exactly.
            partial = [c for c in uniques.values() if c.condition is not None and [
                model._meta.get_field(f).column for f in c.fields] == _columns(columns)]
            assert len(partial) == 1, (name, columns)
            (field, value), = partial[0].condition.children
            assert predicate and re.sub(r"\s+", " ", predicate.strip()) == (
                f"{model._meta.get_field(field).column} = '{value}'"), (name, predicate)
    assert conflicts >= 6


def test_the_recordsets_read_only_values_the_decision_produces():
    """A column the SQL reads from the recordset that the decision does
    not produce would be NULL in every row."""
    raw = {"purchaseOrderNumber": "PO1", "purchaseOrderState": "New",
           "orderDetails": {"purchaseOrderDate": "2026-11-20T00:00:00Z", "items": [
               {"itemSequenceNumber": "1", "amazonProductIdentifier": "B000000001",
                "orderedQuantity": {"amount": 0}}]}}
    now = timezone.now()
    changes = purchase_order_changes_decide(
        orders=[(ApiPurchaseOrder.parse(raw), "x")],
        stored={"PO1": StoredPurchaseOrder(id=1, content_hash="y", state="New",
                                           ack_status="pending", amazon_changed_at=None)},
        previous_lines={(1, "1"): (5, 0)}, mappings=MappingIndex(), now=now,
    )
    written = {
        "_PO_UPSERT_SQL": changes.purchase_orders[0],
        # ``po`` (and an exception's ``subject``) are filled in by the writer.
        "_LINE_UPSERT_SQL": {**changes.lines[0], "po": 1},
        "_EVENT_INSERT_SQL": {**changes.events[0], "po": 1},
        "_EXCEPTION_INSERT_SQL": {"subject": "", "po": 1, "message": "", "code": "",
                                  "params": {}, "detail": {}},
    }
    for name, row in written.items():
        (recordset,) = _RECORDSET.findall(getattr(purchase_order_write, name))
        read = {column.split()[0] for column in recordset.split(",")}
        assert read <= set(row), (name, sorted(read - set(row)))
