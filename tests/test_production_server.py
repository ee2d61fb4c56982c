"""The production web process as docker-compose runs it: collectstatic, then
gunicorn on ``acorn.wsgi`` with no settings module named (production is the
default), serving the dashboard's static files through WhiteNoise under
hashed, compressed, cached-forever names, with the Content-Security-Policy.
"""

from __future__ import annotations

import re
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests
from django.db import connection

from acorn.tests.test_deploy_check import _production_env

ROOT = Path(__file__).resolve().parents[1]
GUNICORN = Path(sys.executable).with_name("gunicorn")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _server_env(static_root: Path) -> dict:
    env = _production_env()
    del env["DJANGO_SETTINGS_MODULE"]  # wsgi.py chooses production itself
    settings = connection.settings_dict
    env.update(
        DJANGO_ALLOWED_HOSTS="127.0.0.1",
        DATABASE_URL=f"postgres://{settings['USER']}@{settings['HOST']}:{settings['PORT']}/"
        f"{settings['NAME']}",
        ACORN_STATIC_ROOT=str(static_root),
        # Plain HTTP on the loopback, as behind compose's (absent) proxy.
        ACORN_SSL_REDIRECT="false",
    )
    return env


@pytest.fixture
def production_server(tmp_path, db):
    env = _server_env(tmp_path / "static")
    collected = subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput"],
        cwd=ROOT,
        env={**env, "DJANGO_SETTINGS_MODULE": "acorn.settings.production"},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert collected.returncode == 0, collected.stderr
    port = _free_port()
    server = subprocess.Popen(
        [str(GUNICORN), "acorn.wsgi:application", "--bind", f"127.0.0.1:{port}", "--workers", "1"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    base_url = f"http://127.0.0.1:{port}"
    try:
        # The first request loads the URLconf and templates: on a busy
        # machine that takes seconds.
        deadline = time.monotonic() + 120
        while True:
            try:
                requests.get(base_url + "/accounts/login/", timeout=30)
                break
            except (requests.ConnectionError, requests.Timeout):
                if server.poll() is not None or time.monotonic() > deadline:
                    raise AssertionError(server.stderr.read()) from None
                time.sleep(0.3)
        yield base_url
    finally:
        server.terminate()
        server.wait(timeout=30)


@pytest.mark.slow
def test_gunicorn_serves_hashed_compressed_static_files_and_the_policy(production_server):
    # When the login page is requested from gunicorn
    page = requests.get(production_server + "/accounts/login/", timeout=10)
    # Then it answers with the policy and links hashed static files
    assert page.status_code == 200
    assert "script-src 'self'" in page.headers["Content-Security-Policy"]
    script = re.search(r'src="(/static/acorn/acorn\.[0-9a-f]{12}\.js)"', page.text)
    assert script, page.text[:500]
    # And WhiteNoise serves them compressed and cacheable forever
    asset = requests.get(
        production_server + script.group(1), headers={"Accept-Encoding": "gzip"}, timeout=10
    )
    assert asset.status_code == 200
    assert "tenant-switcher" in asset.text
    assert asset.headers["Content-Encoding"] == "gzip"
    assert "immutable" in asset.headers["Cache-Control"]
    # And the API docs load Redoc from this origin
    docs = requests.get(production_server + "/api/docs/", timeout=10)
    assert docs.status_code == 200
    bundle = re.search(r'src="(/static/drf_spectacular_sidecar/[^"]+\.js)"', docs.text)
    assert bundle and requests.get(production_server + bundle.group(1), timeout=30).ok
