"""Configuration fails closed.

- Servers (wsgi, asgi, Celery) default to production settings, which refuse
  to start without their secrets; only manage.py defaults to the demo.
- Nothing but acorn/env.py reads the process environment, in product code,
  tests and benchmarks alike (tests set variables with ``monkeypatch`` and
  build child environments with ``acorn.env.environment()``), so the list
  of variables the product reads is the list of ``env*`` calls.
- Every ``ACORN_*`` setting is declared in base settings (read there with
  the typed helpers) and documented in .env.example.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

import acorn.settings.base as base_settings
from acorn.tests.test_deploy_check import _production_env

ROOT = Path(__file__).resolve().parents[2]
SKIPPED_DIRS = {".venv", "var", "node_modules", "build", "__pycache__", ".git"}
ENV_MODULE = ROOT / "acorn" / "env.py"
ENVIRONMENT_ATTRIBUTES = {"environ", "environb", "getenv", "getenvb", "putenv", "unsetenv"}
ENV_HELPERS = {"env", "env_bool", "env_int", "env_float", "env_list"}
# Settings modules that base.py is made of (it star-imports them).
BASE_MODULES = {ROOT / "acorn/settings/base.py", ROOT / "acorn/settings/celery.py"}
# ACORN_* variables read outside the settings, each with its reason.
NON_SETTING_VARIABLES = {
    # Read by ``python -m acorn.db.bootstrap`` before Django is set up.
    ("acorn/db/bootstrap.py", "ACORN_DB_SUPERUSER_URL"),
}


def python_files() -> list[Path]:
    files = []
    for path in ROOT.rglob("*.py"):
        relative = path.relative_to(ROOT)
        if any(part in SKIPPED_DIRS or part.startswith(".") for part in relative.parts[:-1]):
            continue
        files.append(path)
    return sorted(files)


def environment_reads(source: str) -> list[int]:
    """Line numbers where ``source`` touches the process environment."""
    tree = ast.parse(source)
    os_names = {"os"}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            os_names |= {alias.asname or alias.name for alias in node.names if alias.name == "os"}
    lines = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module in ("os", "posix", "nt"):
            if any(alias.name in ENVIRONMENT_ATTRIBUTES for alias in node.names):
                lines.append(node.lineno)
        elif isinstance(node, ast.Import):
            if any(alias.name in ("posix", "nt") for alias in node.names):
                lines.append(node.lineno)
        elif (
            isinstance(node, ast.Attribute)
            and node.attr in ENVIRONMENT_ATTRIBUTES
            and isinstance(node.value, ast.Name)
            and node.value.id in os_names
        ):
            lines.append(node.lineno)
    return lines


def test_the_checker_finds_every_spelling():
    """Negative control: the scan below can fail."""
    source = (
        "import os\nimport os as system\nfrom os import getenv\n"
        "a = os.environ['X']\nb = system.getenv('Y')\nos.environ.setdefault('Z', '1')\n"
        "c = os.path.join('a', 'b')\n"
    )
    assert environment_reads(source) == [3, 4, 5, 6]


def test_nothing_outside_env_module_reads_the_environment():
    offenders = []
    for path in python_files():
        if path == ENV_MODULE:
            continue
        for line in environment_reads(path.read_text()):
            offenders.append(f"{path.relative_to(ROOT)}:{line}")
    assert offenders == []
    assert len(python_files()) > 100  # the walk did see the repository


def _env_reads(path: Path) -> list[str]:
    """The ACORN_* names passed to the env helpers in ``path``."""
    names = []
    for node in ast.walk(ast.parse(path.read_text())):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id in ENV_HELPERS
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and str(node.args[0].value).startswith("ACORN_")
        ):
            names.append(node.args[0].value)
    return names


def _settings_references(path: Path) -> list[str]:
    """``settings.ACORN_X`` and ``getattr(settings, "ACORN_X", ...)``."""
    names = []
    for node in ast.walk(ast.parse(path.read_text())):
        if (
            isinstance(node, ast.Attribute)
            and node.attr.startswith("ACORN_")
            and isinstance(node.value, ast.Name)
            and node.value.id == "settings"
        ):
            names.append(node.attr)
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id in ("getattr", "hasattr")
            and len(node.args) >= 2
            and isinstance(node.args[0], ast.Name)
            and node.args[0].id == "settings"
            and isinstance(node.args[1], ast.Constant)
            and str(node.args[1].value).startswith("ACORN_")
        ):
            names.append(node.args[1].value)
    return names


def _is_test_code(path: Path) -> bool:
    return "tests" in path.relative_to(ROOT).parts


def test_every_acorn_variable_is_read_in_base_settings():
    """Product code reads ACORN_* variables only in base settings; local
    and production may override a default, never add a variable."""
    in_base = {name for path in BASE_MODULES for name in _env_reads(path)}
    stray = []
    for path in python_files():
        if path in BASE_MODULES or _is_test_code(path):
            continue  # tests' own knobs (ACORN_TEST_*) are not settings
        relative = str(path.relative_to(ROOT))
        for name in _env_reads(path):
            if name in in_base or (relative, name) in NON_SETTING_VARIABLES:
                continue
            stray.append(f"{relative}: {name}")
    assert stray == []
    assert {"ACORN_SSL_REDIRECT", "ACORN_HSTS_SECONDS", "ACORN_STATIC_ROOT"} <= in_base


def test_every_acorn_setting_used_is_declared_in_base():
    declared = {name for name in vars(base_settings) if name.startswith("ACORN_")}
    undeclared = sorted(
        f"{path.relative_to(ROOT)}: {name}"
        for path in python_files()
        if not _is_test_code(path)
        for name in _settings_references(path)
        if name not in declared
    )
    assert undeclared == []


def test_every_acorn_variable_is_documented_in_env_example():
    documented = {
        line.split("=", 1)[0].lstrip("# ").strip()
        for line in (ROOT / ".env.example").read_text().splitlines()
        if "=" in line
    }
    read = {name for path in BASE_MODULES for name in _env_reads(path)}
    read |= {name for _path, name in NON_SETTING_VARIABLES}
    assert sorted(read - documented) == []


# --- Entry points and production values (each in a fresh interpreter) -------


def _run(code: str, env: dict) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def _bare_env() -> dict:
    """The production environment without a settings module chosen."""
    env = _production_env()
    del env["DJANGO_SETTINGS_MODULE"]
    return env


PRINT_SETTINGS = "from django.conf import settings; print(settings.SETTINGS_MODULE)"
ENTRY_POINTS = {
    "wsgi": "import acorn.wsgi",
    "asgi": "import acorn.asgi",
    "celery": "from acorn.celery_app import app; app.conf.broker_url",
    # What `celery -A acorn` finds.
    "celery-package": "import acorn; acorn.app.conf.broker_url",
}


@pytest.mark.parametrize("entry", sorted(ENTRY_POINTS))
def test_servers_default_to_production_settings(entry):
    # Given an environment that names no settings module
    env = _bare_env()
    # When the server's entry point loads
    result = _run(f"{ENTRY_POINTS[entry]}; {PRINT_SETTINGS}", env)
    # Then it runs on production settings
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "acorn.settings.production"


@pytest.mark.parametrize("entry", sorted(ENTRY_POINTS))
def test_servers_without_secrets_refuse_to_start(entry):
    env = _bare_env()
    del env["DJANGO_SECRET_KEY"]
    result = _run(f"{ENTRY_POINTS[entry]}; {PRINT_SETTINGS}", env)
    assert result.returncode != 0
    assert "Set the DJANGO_SECRET_KEY environment variable." in result.stderr


def test_manage_py_defaults_to_the_demo_settings():
    result = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", PRINT_SETTINGS],
        cwd=ROOT,
        env=_bare_env(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "acorn.settings.local"


PRINT_SSL = (
    "import django; django.setup(); from django.conf import settings; "
    "print(settings.SECURE_SSL_REDIRECT, settings.SECURE_HSTS_SECONDS)"
)


@pytest.mark.parametrize(
    ("value", "expected"),
    [(None, "True 31536000"), ("0", "False 31536000"), ("false", "False 31536000"),
     ("1", "True 31536000")],
)
def test_ssl_redirect_switch_is_a_boolean(value, expected):
    """``ACORN_SSL_REDIRECT=0`` turns the redirect off (it used to mean on)."""
    env = _production_env()
    if value is not None:
        env["ACORN_SSL_REDIRECT"] = value
    result = _run(PRINT_SSL, env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == expected


def test_a_malformed_boolean_is_refused():
    env = {**_production_env(), "ACORN_SSL_REDIRECT": "maybe"}
    result = _run(PRINT_SSL, env)
    assert result.returncode != 0
    assert "ACORN_SSL_REDIRECT must be a boolean, not 'maybe'." in result.stderr


def test_the_demo_names_its_settings_on_every_process():
    lines = [line for line in (ROOT / "Procfile.demo").read_text().splitlines() if line.strip()]
    assert lines
    for line in lines:
        assert "DJANGO_SETTINGS_MODULE=acorn.settings.local " in line, line


def test_importing_the_env_module_chooses_no_settings():
    """manage.py imports acorn.env before choosing local: that import must
    not pull in the Celery app's production default."""
    code = (
        "import acorn.env, sys; from acorn.env import environment; "
        "print(environment().get('DJANGO_SETTINGS_MODULE', 'unset'), "
        "'acorn.celery_app' in sys.modules)"
    )
    result = _run(code, _bare_env())
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "unset False"


@pytest.mark.django_db
def test_health_paths_are_not_redirected_to_https(client, settings):
    """Load balancers and container health checks probe over plain HTTP."""
    settings.SECURE_SSL_REDIRECT = True
    assert client.get("/accounts/login/").status_code == 301
    for path in ("/health/live", "/health/ready"):
        assert client.get(path).status_code != 301, path


def test_the_demo_settings_serve_static_files_without_collectstatic():
    """Regression: the demo (DEBUG, no STATIC_ROOT) used base's manifest
    storage, so every page's {% static %} raised ImproperlyConfigured."""
    import subprocess
    import sys

    from acorn.env import environment

    env = {**environment(), "DJANGO_SETTINGS_MODULE": "acorn.settings.local",
           "DATABASE_URL": "postgres://acorn_app@127.0.0.1:5432/unused",
           "DATABASE_OWNER_URL": "postgres://acorn_owner@127.0.0.1:5432/unused",
           "REDIS_URL": "redis://127.0.0.1:6379/15"}
    script = ("import django; django.setup()\n"
              "from django.templatetags.static import static\n"
              "print(static('acorn/acorn.css'))\n")
    result = subprocess.run([sys.executable, "-c", script], env=env, cwd=ROOT,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr[-500:]
    assert result.stdout.strip() == "/static/acorn/acorn.css"
