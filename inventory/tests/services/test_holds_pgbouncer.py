"""Holds behind PgBouncer in transaction pooling mode (production's pooler).

A real ``pgbouncer`` (Debian's package, scripts/system-packages.sh test)
listens on a free local port with two server connections for many client
connections, so consecutive transactions of one client run on different
server sessions: anything a placement kept in a server session (a named
PREPARE) would be missing there.
"""

import os
import random
import shutil
import socket
import subprocess
import tempfile
import threading
import time
from pathlib import Path

import pytest
from django.db import connection, connections

from acorn.services import tenant_create
from acorn.tenancy import tenant_scope
from inventory.models import HoldLine, StockLevel
from inventory.selectors import stock_consistency_check
from inventory.services import (
    InsufficientStockError,
    stock_hold_place,
    stock_receive,
    stock_reserve,
)
from inventory.tests.factories import ProductFactory, WarehouseFactory

PGBOUNCER = shutil.which("pgbouncer") or "/usr/sbin/pgbouncer"
WORKERS = 12
ATTEMPTS = 30
SERVER_CONNECTIONS = 2

pytestmark = pytest.mark.skipif(
    not Path(PGBOUNCER).exists(),
    reason="pgbouncer is not installed (scripts/system-packages.sh test)",
)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _admin(port: int, user: str, command: str) -> list[list[str]]:
    """A command on PgBouncer's admin console (simple query protocol: psql)."""
    out = subprocess.run(
        ["psql", "-h", "127.0.0.1", "-p", str(port), "-U", user, "-d", "pgbouncer",
         "-AtF", "|", "-c", command],
        check=True, capture_output=True, text=True, timeout=10,
    ).stdout
    return [line.split("|") for line in out.splitlines() if line]


@pytest.fixture
def pgbouncer():
    """PgBouncer in transaction pooling mode in front of the test database."""
    settings = connection.settings_dict
    user = settings["USER"]
    port = _free_port()
    folder = Path(tempfile.mkdtemp(prefix="acorn-pgbouncer-"))
    # PgBouncer refuses to run as root; as root it switches to ``-u``,
    # which must read the files.
    folder.chmod(0o755)
    (folder / "users.txt").write_text(f'"{user}" ""\n')
    (folder / "pgbouncer.ini").write_text(f"""
[databases]
* = host={settings["HOST"] or "127.0.0.1"} port={settings["PORT"] or 5432}

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = {port}
unix_socket_dir =
auth_type = trust
auth_file = {folder / "users.txt"}
admin_users = {user}
pool_mode = transaction
default_pool_size = {SERVER_CONNECTIONS}
max_client_conn = 200
ignore_startup_parameters = extra_float_digits,options
""")
    for name in ("users.txt", "pgbouncer.ini"):
        (folder / name).chmod(0o644)
    command = [PGBOUNCER, str(folder / "pgbouncer.ini")]
    if os.geteuid() == 0:
        command[1:1] = ["-u", "postgres"]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               text=True)
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(
                        f"pgbouncer did not start: {process.stdout.read()}") from None
                time.sleep(0.05)
        yield {"port": port, "user": user, "database": settings["NAME"]}
    finally:
        process.terminate()
        process.wait(timeout=10)
        shutil.rmtree(folder, ignore_errors=True)


def _through(port: int) -> None:
    """This thread's connection goes through PgBouncer from now on."""
    wrapper = connections["default"]
    wrapper.close()
    wrapper.settings_dict = {**wrapper.settings_dict, "HOST": "127.0.0.1", "PORT": str(port)}


@pytest.mark.django_db(transaction=True)
def test_concurrent_holds_through_pgbouncer_transaction_pooling(pgbouncer):
    """Twelve clients on two server connections place holds and
    reservations (one and two lines): every call answers (no 'prepared
    statement does not exist'), nothing is oversold, levels match lines."""
    # Given 8 products with 15 units each
    tenant = tenant_create(slug="pooled", name="Pooled")
    with tenant_scope(tenant):
        warehouse = WarehouseFactory(tenant=tenant)
        products = [ProductFactory(tenant=tenant) for _ in range(8)]
        for product in products:
            stock_receive(tenant=tenant, product=product, warehouse=warehouse, quantity=15)
    product_ids = [product.pk for product in products]
    start = threading.Barrier(WORKERS)
    errors, placed = [], []

    def worker(index):
        rng = random.Random(index)
        try:
            _through(pgbouncer["port"])
            with tenant_scope(tenant, atomic=False):
                start.wait()
                for attempt in range(ATTEMPTS):
                    chosen = rng.sample(product_ids, 1 + attempt % 2)
                    lines = [{"product_id": pk, "quantity": rng.randint(1, 3)} for pk in chosen]
                    key = f"{index}:{attempt}"
                    place = stock_reserve if attempt % 3 == 0 else stock_hold_place
                    options = {} if place is stock_reserve else {"source_type": "amazon_po"}
                    try:
                        place(tenant=tenant, lines=lines, source_ref=key, idempotency_key=key,
                              **options)
                        placed.append(sum(line["quantity"] for line in lines))
                    except InsufficientStockError:
                        pass
        except Exception as error:  # noqa: BLE001 - asserted below
            errors.append(error)
        finally:
            connections.close_all()

    def transactions():
        return sum(int(row[1]) for row in _admin(pgbouncer["port"], pgbouncer["user"],
                                                 "SHOW STATS")
                   if row[0] == pgbouncer["database"])

    before = transactions()
    # When the clients place holds at once through PgBouncer
    threads = [threading.Thread(target=worker, args=(i,)) for i in range(WORKERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # Then no call failed, and the transactions went through the pooler
    assert errors == []
    assert transactions() - before >= WORKERS * ATTEMPTS
    servers = [row for row in _admin(pgbouncer["port"], pgbouncer["user"], "SHOW SERVERS")
               if row[2] == pgbouncer["database"]]
    assert 1 <= len(servers) <= SERVER_CONNECTIONS
    # And nothing was oversold: the levels hold exactly what the lines promise
    assert placed
    with tenant_scope(tenant):
        levels = StockLevel.objects.filter(tenant=tenant, product_id__in=product_ids)
        assert all(level.held + level.reserved <= level.on_hand for level in levels)
        assert sum(level.held + level.reserved for level in levels) == sum(placed) == sum(
            HoldLine.objects.filter(tenant=tenant).values_list("open_quantity", flat=True))
        assert stock_consistency_check(tenant=tenant) == []
