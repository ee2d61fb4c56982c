"""Start, stop or watch the demo's embedded PostgreSQL server.

``start`` creates the data directory on first use, starts the server unless
it runs and makes sure of the two roles and the database (re-running it is
safe); ``stop`` shuts it down cleanly; ``watch`` (the ``db`` process of
Procfile.demo) prints the server's log and exits when the server goes away,
so honcho stops the other processes instead of leaving them without a
database. With DATABASE_URL set, the user's own server is used and every
action says so and does nothing.
"""

import signal
import sys
import time

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from acorn.db.embedded import EmbeddedPostgres, EmbeddedPostgresError

WATCH_INTERVAL_SECONDS = 0.5


class Command(BaseCommand):
    help = "Start, stop or watch the embedded PostgreSQL server of the demo."

    def add_arguments(self, parser):
        parser.add_argument("action", choices=["start", "stop", "status", "watch"])

    def handle(self, *args, action, **options):
        if not settings.ACORN_EMBEDDED_POSTGRES:
            if action == "watch":
                self._wait_for_signal()
                return
            self.stdout.write("DATABASE_URL is set: using that server, no embedded PostgreSQL.")
            return
        server = EmbeddedPostgres(var_dir=settings.VAR_DIR)
        try:
            if action == "start":
                if server.init():
                    self.stdout.write(f"Created the PostgreSQL data directory {server.data_dir}")
                if server.start():
                    self.stdout.write(f"Started the embedded PostgreSQL ({server.data_dir})")
                else:
                    self.stdout.write("The embedded PostgreSQL is already running.")
                server.ensure_roles()
            elif action == "stop":
                if server.stop():
                    self.stdout.write("Stopped the embedded PostgreSQL.")
            elif action == "status":
                pid = server.running_pid()
                self.stdout.write(f"running, pid {pid}" if pid else "stopped")
                if pid is None:
                    sys.exit(3)
            else:
                self._watch(server)
        except EmbeddedPostgresError as exc:
            raise CommandError(str(exc)) from exc

    def _watch(self, server: EmbeddedPostgres) -> None:
        stop = self._stop_flag()
        if server.running_pid() is None:
            raise CommandError("The embedded PostgreSQL is not running; run `make demo`.")
        position = server.log_file.stat().st_size if server.log_file.exists() else 0
        while not stop:
            position = self._print_new_lines(server, position)
            if server.running_pid() is None:
                self._print_new_lines(server, position)
                raise CommandError("The embedded PostgreSQL stopped.")
            time.sleep(WATCH_INTERVAL_SECONDS)

    def _print_new_lines(self, server: EmbeddedPostgres, position: int) -> int:
        try:
            with open(server.log_file, "rb") as log:
                log.seek(position)
                chunk = log.read()
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

    def _wait_for_signal(self) -> None:
        stop = self._stop_flag()
        while not stop:
            time.sleep(WATCH_INTERVAL_SECONDS)
