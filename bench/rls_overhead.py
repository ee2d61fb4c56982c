"""rls_overhead: a tenant-filtered list query with row-level security on vs
off, on 1,000,000 rows of 10 tenants, in the same run.

Two identical tables are filled with the same rows; one carries the ACORN
policy (ENABLE + FORCE), the other none. The application role runs the
list query the API runs (tenant filter, newest first, a page of 100) on
each, interleaved so drift hits both alike. With RLS the tenant is set per
transaction exactly as the app's backend does. Goal: on/off <= 1.15.
"""

from __future__ import annotations

import statistics
import time

import psycopg
from django.conf import settings
from django.db import connection

from acorn.rls import POLICY_NAME, TENANT_PREDICATE

ROWS = 1_000_000
TENANTS = 10
QUERIES = 2_000
PAGE = 100
GOAL_RATIO = 1.15

LIST_SQL = (
    "SELECT id, sku, quantity, created_at FROM {table} WHERE tenant_id = %s "
    "ORDER BY created_at DESC, id DESC LIMIT {page}"
)


def _owner_dsn() -> str:
    return settings.DATABASE_OWNER_URL.replace("postgres://", "postgresql://", 1)


def _app_dsn() -> str:
    return settings.DATABASE_URL.replace("postgres://", "postgresql://", 1)


def _prepare(app_role: str) -> None:
    with psycopg.connect(_owner_dsn(), autocommit=True) as owner:
        for table, rls in (("bench_rls_on", True), ("bench_rls_off", False)):
            owner.execute(f"DROP TABLE IF EXISTS {table}")
            owner.execute(
                f"CREATE TABLE {table} (id bigserial PRIMARY KEY, tenant_id bigint NOT NULL, "
                "sku text NOT NULL, quantity integer NOT NULL, created_at timestamptz NOT NULL)"
            )
            owner.execute(
                f"INSERT INTO {table} (tenant_id, sku, quantity, created_at) "
                f"SELECT 1 + (g % {TENANTS}), 'SKU-' || g, g % 97, "
                "timestamptz '2026-01-01' + g * interval '1 second' "
                f"FROM generate_series(1, {ROWS}) g"
            )
            owner.execute(f"CREATE INDEX ON {table} (tenant_id, created_at DESC, id DESC)")
            if rls:
                owner.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
                owner.execute(f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY")
                owner.execute(
                    f"CREATE POLICY {POLICY_NAME} ON {table} USING ({TENANT_PREDICATE}) "
                    f"WITH CHECK ({TENANT_PREDICATE})"
                )
            owner.execute(f'GRANT SELECT ON {table} TO "{app_role}"')
            owner.execute(f"ANALYZE {table}")


def _time_list_queries(app, table: str, with_tenant_setting: bool) -> tuple[list, list]:
    """Per query: (time of the list query alone, time of its transaction).

    The tenant is set once per transaction (as the backend does), so the
    query time is the policy's cost and the transaction time adds the one
    set_config statement a request pays whatever it runs.
    """
    sql = LIST_SQL.format(table=table, page=PAGE)
    query_times, transaction_times = [], []
    for index in range(QUERIES):
        tenant_id = 1 + index % TENANTS
        started = time.perf_counter()
        with app.transaction():
            if with_tenant_setting:
                app.execute("SELECT set_config('acorn.tenant_id', %s, true)", [str(tenant_id)])
            query_started = time.perf_counter()
            rows = app.execute(sql, [tenant_id]).fetchall()
            query_times.append(time.perf_counter() - query_started)
        transaction_times.append(time.perf_counter() - started)
        assert len(rows) == PAGE and all(row[0] for row in rows)
    return query_times, transaction_times


def run(report):
    app_role = connection.settings_dict["USER"]
    started = time.perf_counter()
    _prepare(app_role)
    setup_seconds = time.perf_counter() - started
    with psycopg.connect(_app_dsn(), autocommit=True) as app:
        # Warm both tables' pages and plans before measuring.
        _time_list_queries(app, "bench_rls_off", False)
        _time_list_queries(app, "bench_rls_on", True)
        off, on, off_tx, on_tx = [], [], [], []
        for _ in range(3):
            query_times, transaction_times = _time_list_queries(app, "bench_rls_off", False)
            off += query_times
            off_tx += transaction_times
            query_times, transaction_times = _time_list_queries(app, "bench_rls_on", True)
            on += query_times
            on_tx += transaction_times
        # The policy must really filter: without a tenant it returns nothing.
        with app.transaction():
            leaked = app.execute("SELECT count(*) FROM bench_rls_on").fetchone()[0]
        plan = "\n".join(
            row[0]
            for row in app.execute(
                "EXPLAIN " + LIST_SQL.format(table="bench_rls_off", page=PAGE), [1]
            ).fetchall()
        )
    off_median = statistics.median(off) * 1000
    on_median = statistics.median(on) * 1000
    ratio = on_median / off_median
    report(
        name="rls_overhead",
        value=on_median,
        unit="ms/query (median, RLS on)",
        goal=f"on/off <= {GOAL_RATIO}",
        baseline=off_median,
        ratio=ratio,
        passed=ratio <= GOAL_RATIO and leaked == 0,
        parameters={
            "rows": ROWS,
            "tenants": TENANTS,
            "queries_each": len(on),
            "page_size": PAGE,
            "rls_off_median_ms": round(off_median, 4),
            "rls_on_median_ms": round(on_median, 4),
            "rls_on_p95_ms": round(statistics.quantiles(on, n=20)[18] * 1000, 4),
            "rls_off_p95_ms": round(statistics.quantiles(off, n=20)[18] * 1000, 4),
            "transaction_ratio_with_set_config": round(
                statistics.median(on_tx) / statistics.median(off_tx), 3
            ),
            "rows_visible_without_tenant": leaked,
            "uses_index": "Index Scan" in plan,
            "setup_seconds": round(setup_seconds, 1),
        },
    )
    with psycopg.connect(_owner_dsn(), autocommit=True) as owner:
        owner.execute("DROP TABLE IF EXISTS bench_rls_on")
        owner.execute("DROP TABLE IF EXISTS bench_rls_off")
