"""Start, stop or watch the demo's embedded servers: PostgreSQL and Valkey.

``start`` creates the PostgreSQL data directory on first use, starts both
servers unless they run, and makes sure of the two database roles and the
database (re-running it is safe); ``stop`` shuts both down cleanly;
``watch`` (the ``servers`` process of Procfile.demo) prints PostgreSQL's log
and exits when either server goes away, so honcho stops the other processes
instead of leaving them without a database or broker. A server whose URL is
set (DATABASE_URL, REDIS_URL) is the user's own: it is neither started nor
stopped.
"""

import signal
import sys
import time

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from acorn.db.embedded import EmbeddedPostgres, EmbeddedPostgresError
from acorn.db.embedded_valkey import EmbeddedValkey, EmbeddedValkeyError

WATCH_INTERVAL_SECONDS = 0.5


class Command(BaseCommand):
    help = "Start, stop or watch the demo's embedded PostgreSQL and Valkey servers."

    def add_arguments(self, parser):
        parser.add_argument("action", choices=["start", "stop", "status", "watch"])

    def handle(self, *args, action, **options):
        postgres = EmbeddedPostgres(var_dir=settings.VAR_DIR)
        valkey = EmbeddedValkey(var_dir=settings.VAR_DIR)
        if action in {"start", "stop"}:
            if not settings.ACORN_EMBEDDED_POSTGRES:
                self.stdout.write("DATABASE_URL is set: using that PostgreSQL, none embedded.")
            if not settings.ACORN_EMBEDDED_VALKEY:
                self.stdout.write("REDIS_URL is set: using that Redis, no embedded Valkey.")
        try:
            if action == "start":
                self._start(postgres, valkey)
            elif action == "stop":
                self._stop(postgres, valkey)
            elif action == "status":
                self._status(postgres, valkey)
            else:
                self._watch(postgres, valkey)
        except (EmbeddedPostgresError, EmbeddedValkeyError) as exc:
            raise CommandError(str(exc)) from exc

    def _start(self, postgres: EmbeddedPostgres, valkey: EmbeddedValkey) -> None:
        if settings.ACORN_EMBEDDED_POSTGRES:
            if postgres.init():
                self.stdout.write(f"Created the PostgreSQL data directory {postgres.data_dir}")
            if postgres.start():
                self.stdout.write(f"Started the embedded PostgreSQL ({postgres.data_dir})")
            else:
                self.stdout.write("The embedded PostgreSQL is already running.")
            postgres.ensure_roles()
        if settings.ACORN_EMBEDDED_VALKEY:
            if valkey.start():
                self.stdout.write(f"Started the embedded Valkey ({valkey.socket_path})")
            else:
                self.stdout.write("The embedded Valkey is already running.")

    def _stop(self, postgres: EmbeddedPostgres, valkey: EmbeddedValkey) -> None:
        # Each is stopped even if the other fails to.
        failures = []
        if settings.ACORN_EMBEDDED_VALKEY:
            try:
                if valkey.stop():
                    self.stdout.write("Stopped the embedded Valkey.")
            except EmbeddedValkeyError as exc:
                failures.append(str(exc))
        if settings.ACORN_EMBEDDED_POSTGRES:
            try:
                if postgres.stop():
                    self.stdout.write("Stopped the embedded PostgreSQL.")
            except EmbeddedPostgresError as exc:
                failures.append(str(exc))
        if failures:
            raise CommandError("\n".join(failures))

    def _status(self, postgres: EmbeddedPostgres, valkey: EmbeddedValkey) -> None:
        down = False
        for name, embedded, server in (
            ("PostgreSQL", settings.ACORN_EMBEDDED_POSTGRES, postgres),
            ("Valkey", settings.ACORN_EMBEDDED_VALKEY, valkey),
        ):
            if not embedded:
                self.stdout.write(f"{name}: not embedded (its URL is set)")
                continue
            pid = server.running_pid()
            down = down or pid is None
            self.stdout.write(f"{name}: running, pid {pid}" if pid else f"{name}: stopped")
        if down:
            sys.exit(3)

    def _watch(self, postgres: EmbeddedPostgres, valkey: EmbeddedValkey) -> None:
        stop = self._stop_flag()
        watched = [
            (name, server)
            for name, embedded, server in (
                ("PostgreSQL", settings.ACORN_EMBEDDED_POSTGRES, postgres),
                ("Valkey", settings.ACORN_EMBEDDED_VALKEY, valkey),
            )
            if embedded
        ]
        for name, server in watched:
            if server.running_pid() is None:
                raise CommandError(f"The embedded {name} is not running; run `make demo`.")
        log = postgres.log_file
        position = log.stat().st_size if settings.ACORN_EMBEDDED_POSTGRES and log.exists() else 0
        while not stop:
            if settings.ACORN_EMBEDDED_POSTGRES:
                position = self._print_new_lines(log, position)
            for name, server in watched:
                if server.running_pid() is None:
                    raise CommandError(f"The embedded {name} stopped.")
            time.sleep(WATCH_INTERVAL_SECONDS)

    def _print_new_lines(self, log, position: int) -> int:
        try:
            with open(log, "rb") as handle:
                handle.seek(position)
                chunk = handle.read()
        except FileNotFoundError:
            return position
        if chunk:
            self.stdout.write(chunk.decode(errors="replace"), ending="")
            self.stdout.flush()
        return position + len(chunk)

    def _stop_flag(self) -> list:
        """A list that becomes non-empty on SIGTERM/SIGINT (honcho's stop)."""
        flag: list = []

        def stop(signum, frame):
            flag.append(signum)

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        return flag
