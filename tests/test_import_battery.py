"""Hypothesis battery over every importer (issue 9): products, SKU
mappings and Amazon forecasts, each as CSV and XLSX, through the path the
dashboard and the import jobs use (``import_file_run``).

Rows are generated valid, then mutated (bad numbers, NUL bytes, control
characters, huge cells, formula prefixes, wrong or duplicate headers,
BOMs, UTF-16, Latin-1, CRLF, truncation, random bytes). Properties:
- nothing but a clear ``ApplicationError`` (file refused) or a result with
  row errors comes out: 0 crashes;
- a refused file, a file with any row error and a dry run change nothing:
  0 partial writes;
- messages never echo a whole cell;
- a file with a cell over the limit, or more rows than the limit, is
  refused; an applied file imports again unchanged; exports are
  formula-safe and import back unchanged.

Sized for CI (a few seconds); ``ACORN_IMPORT_SOAK=1`` runs 25x the
examples and 25x the rows.
"""

from __future__ import annotations

import csv
import io
from unittest import mock

import pytest
from django.db import transaction
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from stdnum import ean

from acorn.dataio import reading
from acorn.dataio.export import FORMULA_PREFIXES, PLAIN_NUMBER
from acorn.dataio.jobs import import_file_run
from acorn.env import env_bool
from acorn.exceptions import ApplicationError
from acorn.tenancy import tenant_scope
from acorn.tests.dataio.hostile import xlsx_rows
from channels.models import SkuMapping
from channels.services.mappings import mapping_export_dataset
from channels.tests.factories import AmazonVendorAccountFactory
from inventory.models import AmazonForecast, Product
from inventory.services import product_export_dataset
from inventory.tests.factories import ProductFactory, SupplierFactory

SOAK = env_bool("ACORN_IMPORT_SOAK", False)
SCALE = 25 if SOAK else 1
EXAMPLES = 30 * SCALE
MAX_FILE_ROWS = 8 * SCALE
# An error message quotes at most a 40-character slice of a cell; the
# longest fixed text around it is under 200 characters.
MAX_MESSAGE_CHARS = 320

battery = settings(
    max_examples=EXAMPLES, deadline=None, derandomize=not SOAK,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                           HealthCheck.data_too_large],
)

HOSTILE_NUMBERS = ["1e1000000", "1e100000", "-1e100000", "1e-1000000", "NaN", "-Infinity",
                   "sNaN", "9" * 60, "1e16", "0x10", "١٢٣", "1,5", "", " ", "--1", "1e",
                   "2147483648", "-1"]
CONTROL = ["\x00", "\x07", "\x1b", "\r", "\n", "\t", "\u2028", "\ufeff", "\ud7ff"]

skus = st.from_regex(r"[A-Z][A-Z0-9\-]{0,10}", fullmatch=True)
asins = st.from_regex(r"B0[A-Z0-9]{8}", fullmatch=True)
gtins = st.text("0123456789", min_size=12, max_size=12).map(
    lambda d: d + ean.calc_check_digit(d)
)
names = st.text(st.characters(blacklist_categories=("Cs", "Cc")), min_size=1, max_size=40)
quantities = st.integers(0, 10_000).map(str)


def _product_row():
    return st.tuples(skus, names, st.just("") | gtins, st.just("") | asins,
                     st.integers(1, 48).map(str), st.just("") | st.decimals(
                         0, 99_999, places=2).map(str), quantities, st.just("SUP") | st.just(""))


def _mapping_row():
    return st.tuples(st.sampled_from(["US", "US", "EU?"]), asins, st.just("") | skus,
                     st.sampled_from(["A-1", "A-2", "A-3"]),
                     st.sampled_from(["Eaches", "Cases"]), st.integers(1, 24).map(str))


def _forecast_row():
    return st.tuples(asins, st.dates().map(lambda d: d.isoformat()),
                     *[st.decimals(0, 9_999, places=2).map(str)] * 4)


IMPORTERS = {
    "inventory.products": {
        "headers": ["sku", "name", "gtin", "asin", "case_pack", "weight_grams",
                    "safety_stock", "supplier_code"],
        "row": _product_row, "numbers": [4, 5, 6], "text": [0, 1, 7], "required": [0, 1],
    },
    "channels.sku_mappings": {
        "headers": ["account", "asin", "vendor_product_id", "sku", "order_unit",
                    "units_per_order_unit"],
        "row": _mapping_row, "numbers": [5], "text": [0, 1, 2, 3], "required": [0, 1, 3],
    },
    "inventory.forecast": {
        "headers": ["asin", "week_start", "mean", "p70", "p80", "p90"],
        "row": _forecast_row, "numbers": [2, 3, 4, 5], "text": [0, 1],
        "required": [0, 1, 2, 3, 4, 5],
    },
}


def _snapshot(kind) -> list:
    if kind == "inventory.products":
        return list(Product.objects.order_by("sku").values_list(
            "sku", "name", "gtin", "asin", "case_pack", "weight_grams", "safety_stock",
            "supplier_id", "updated_at"))
    if kind == "channels.sku_mappings":
        return list(SkuMapping.objects.order_by("account_id", "asin").values_list(
            "account_id", "asin", "vendor_product_id", "product_id", "order_unit",
            "units_per_order_unit", "updated_at"))
    return list(AmazonForecast.objects.order_by("asin", "week_start").values_list(
        "asin", "week_start", "mean", "p70", "p80", "p90", "updated_at"))


@st.composite
def hostile_files(draw, kind: str):
    """(filename, bytes, what was done to it)."""
    spec = IMPORTERS[kind]
    headers = list(spec["headers"])
    rows = [list(row) for row in draw(st.lists(spec["row"](), max_size=MAX_FILE_ROWS))]
    mutations = draw(st.lists(st.sampled_from([
        "bad_number", "control", "huge_cell", "formula", "header_drop", "header_dup",
        "header_rename", "ragged",
    ]), max_size=3))
    done = set()
    # "ragged" shortens a row, so it goes last
    for mutation in sorted(mutations, key=lambda name: name == "ragged"):
        if mutation in ("bad_number", "control", "huge_cell", "formula", "ragged") and not rows:
            continue
        row = draw(st.sampled_from(rows)) if rows else None
        if mutation == "bad_number":
            row[draw(st.sampled_from(spec["numbers"]))] = draw(st.sampled_from(HOSTILE_NUMBERS))
        elif mutation == "control":
            column = draw(st.integers(0, len(row) - 1))
            row[column] = row[column] + draw(st.sampled_from(CONTROL)) + "x"
        elif mutation == "huge_cell":
            row[draw(st.sampled_from(spec["text"]))] = "A" * draw(
                st.integers(reading.MAX_CELL_CHARS + 1, 3 * reading.MAX_CELL_CHARS))
        elif mutation == "formula":
            column = draw(st.sampled_from(spec["text"]))
            row[column] = draw(st.sampled_from(sorted(FORMULA_PREFIXES))) + row[column]
        elif mutation == "ragged":
            del row[draw(st.integers(1, len(row))):]
        elif mutation == "header_drop":
            headers[draw(st.sampled_from(spec["required"]))] = ""
        elif mutation == "header_dup":
            headers[-1] = headers[0]
        elif mutation == "header_rename":
            headers[draw(st.integers(0, len(headers) - 1))] = draw(names)
        done.add(mutation)
    # a huge cell counts only if no later mutation cut it off
    done.discard("huge_cell")
    if any(len(cell) > reading.MAX_CELL_CHARS for row in [headers, *rows] for cell in row):
        done.add("huge_cell")
    file_format = draw(st.sampled_from(["csv", "xlsx"]))
    if file_format == "xlsx":
        content = xlsx_rows([headers, *rows])
    else:
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator=draw(st.sampled_from(["\n", "\r\n"])))
        writer.writerows([headers, *rows])
        encoding = draw(st.sampled_from(["utf-8", "utf-8-sig", "utf-16", "latin-1"]))
        content = buffer.getvalue().encode(encoding, errors="replace")
        if encoding != "utf-8":
            done.add(encoding)
    damage = draw(st.sampled_from(["none"] * 6 + ["truncate", "binary"]))
    if damage == "truncate" and content:
        content = content[:draw(st.integers(0, len(content) - 1))]
        done.add("truncate")
    elif damage == "binary":
        content = draw(st.binary(max_size=4096))
        done.add("binary")
    return f"upload.{file_format}", content, done


def _world(tenant):
    SupplierFactory(tenant=tenant, code="SUP")
    AmazonVendorAccountFactory(tenant=tenant, name="US")
    for sku in ("A-1", "A-2", "A-3"):
        ProductFactory(tenant=tenant, sku=sku)


def _messages(result) -> list[str]:
    return [str(m) for row in result.rows for ms in row.errors.values() for m in ms]


def _check_file(tenant, kind, filename, content, done, dry_run):
    """Run one file and assert every property; rolls back after."""
    with tenant_scope(tenant):
        _world(tenant)
        before = _snapshot(kind)
        try:
            result = import_file_run(tenant=tenant, kind=kind, content=content,
                                     filename=filename, dry_run=dry_run)
        except ApplicationError as error:
            # a refused file: a short message, nothing written
            assert len(error.message) <= MAX_MESSAGE_CHARS, error.message
            assert _snapshot(kind) == before
            transaction.set_rollback(True)
            return "refused"
        assert "huge_cell" not in done or done & {"truncate", "binary", "latin-1"}, (
            "a cell over the limit was accepted")
        assert all(len(m) <= MAX_MESSAGE_CHARS for m in _messages(result))
        if dry_run or not result.applied:
            assert _snapshot(kind) == before, "a partial write"
            assert dry_run or result.has_errors
        else:
            after = _snapshot(kind)
            again = import_file_run(tenant=tenant, kind=kind, content=content,
                                    filename=filename, dry_run=False)
            if kind == "inventory.forecast":
                # forecasts are upserts (the latest import wins): the same
                # file again rewrites the same values and adds no row
                assert [r[:-1] for r in _snapshot(kind)] == [r[:-1] for r in after]
            else:
                assert {row.action for row in again.rows} <= {"unchanged"}
                assert _snapshot(kind) == after
        transaction.set_rollback(True)
        return "errors" if result.has_errors else "ok"


@pytest.mark.django_db
@pytest.mark.parametrize("kind", sorted(IMPORTERS))
@battery
@given(data=st.data(), dry_run=st.booleans())
def test_importer_never_crashes_nor_writes_part_of_a_bad_file(tenant_a, kind, data, dry_run):
    filename, content, done = data.draw(hostile_files(kind))
    outcome = _check_file(tenant_a, kind, filename, content, done, dry_run)
    event(f"outcome: {outcome}")
    for mutation in sorted(done):
        event(f"mutation: {mutation}")


@pytest.mark.django_db
@pytest.mark.parametrize("kind", sorted(IMPORTERS))
@battery
@given(data=st.data())
def test_the_row_limit_holds_for_every_importer_and_format(tenant_a, kind, data):
    # The limit is lowered so the battery stays small; the check is the
    # one the 20,000-row limit uses.
    limit = 5
    spec = IMPORTERS[kind]
    rows = data.draw(st.lists(spec["row"](), min_size=limit - 1, max_size=limit + 3))
    file_format = data.draw(st.sampled_from(["csv", "xlsx"]))
    table = [spec["headers"], *[list(r) for r in rows]]
    if file_format == "xlsx":
        content = xlsx_rows(table)
    else:
        buffer = io.StringIO()
        csv.writer(buffer).writerows(table)
        content = buffer.getvalue().encode()
    with mock.patch.object(reading, "MAX_ROWS", limit), tenant_scope(tenant_a):
        try:
            import_file_run(tenant=tenant_a, kind=kind, content=content,
                            filename=f"f.{file_format}", dry_run=True)
            refused = False
        except ApplicationError as error:
            refused = "more than 5 rows" in error.message
        transaction.set_rollback(True)
    assert refused == (len(rows) > limit)


def _cells(dataset) -> list:
    return [cell for row in dataset for cell in row]


@pytest.mark.django_db
@pytest.mark.parametrize(("kind", "export"), [
    ("inventory.products", product_export_dataset),
    ("channels.sku_mappings", mapping_export_dataset),
])
@battery
@given(data=st.data())
def test_exports_are_formula_safe_and_import_back_unchanged(tenant_a, kind, export, data):
    spec = IMPORTERS[kind]
    rows = [list(r) for r in data.draw(st.lists(spec["row"](), min_size=1,
                                                max_size=MAX_FILE_ROWS))]
    # formula-looking text where the importers accept free text
    for row in rows:
        if kind == "inventory.products":
            row[1] = data.draw(st.sampled_from(sorted(FORMULA_PREFIXES - {"\t", "\r"}))) + row[1]
    buffer = io.StringIO()
    csv.writer(buffer).writerows([spec["headers"], *rows])
    with tenant_scope(tenant_a):
        _world(tenant_a)
        try:
            result = import_file_run(tenant=tenant_a, kind=kind,
                                     content=buffer.getvalue().encode(), filename="f.csv",
                                     dry_run=False)
        except ApplicationError:
            result = None
        if result is not None and result.applied:
            dataset = export(tenant=tenant_a)
            for cell in _cells(dataset):
                if isinstance(cell, str) and cell[:1] in FORMULA_PREFIXES:
                    assert PLAIN_NUMBER.fullmatch(cell), cell
            for file_format in ("csv", "xlsx"):
                exported = dataset.export(file_format)
                exported = exported.encode() if isinstance(exported, str) else exported
                again = import_file_run(tenant=tenant_a, kind=kind, content=exported,
                                        filename=f"e.{file_format}", dry_run=False)
                assert {row.action for row in again.rows} <= {"unchanged"}, again.rows
        transaction.set_rollback(True)
