#!/usr/bin/env bash
# `make demo`: the embedded PostgreSQL and Valkey servers (each unless its
# URL, DATABASE_URL or REDIS_URL, is set), migrations as the owner role, the demo tenant, then web + worker + beat +
# sandbox under honcho. Ctrl-C stops honcho's processes first, then the
# embedded servers (the EXIT trap), so no process is left behind.
# Ports: ACORN_DEMO_WEB_PORT (8000) and ACORN_DEMO_SANDBOX_PORT (8001).
set -euo pipefail
cd "$(dirname "$0")/.."
python=.venv/bin/python
export ACORN_DEMO_WEB_PORT="${ACORN_DEMO_WEB_PORT:-8000}"
export ACORN_DEMO_SANDBOX_PORT="${ACORN_DEMO_SANDBOX_PORT:-8001}"
export ACORN_SANDBOX_URL="${ACORN_SANDBOX_URL:-http://127.0.0.1:${ACORN_DEMO_SANDBOX_PORT}}"

stop_servers() {
  "$python" manage.py demo_services stop || true
}
trap stop_servers EXIT

"$python" manage.py demo_services start
"$python" manage.py migrate --noinput
"$python" manage.py demo_setup --url "http://127.0.0.1:${ACORN_DEMO_WEB_PORT}/"
.venv/bin/honcho -f Procfile.demo start
