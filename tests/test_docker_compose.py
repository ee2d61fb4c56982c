"""docker-compose.yml is a valid, production-like stack.

``docker compose config`` (or Debian's ``docker-compose``) parses and
validates the file locally, without a Docker engine; the resolved
configuration is then checked: production settings everywhere, secrets
from the generated env file, gunicorn, health checks, one beat, and the
sandbox reachable by the worker by its service name.
"""

from __future__ import annotations

import re
import shutil
import stat
import subprocess
from pathlib import Path

import pytest
import yaml
from cryptography.fernet import Fernet

ROOT = Path(__file__).resolve().parents[1]
APP_SERVICES = ("migrate", "web", "worker", "beat", "sandbox")
SECRET_NAMES = (
    "POSTGRES_PASSWORD",
    "DJANGO_SECRET_KEY",
    "ACORN_FIELD_ENCRYPTION_KEYS",
    "DATABASE_URL",
    "DATABASE_OWNER_URL",
    "ACORN_DB_SUPERUSER_URL",
)


def compose_command() -> list[str]:
    """The Compose v2 plugin if the docker client has it, else Debian's
    docker-compose (scripts/system-packages.sh test installs it)."""
    docker = shutil.which("docker")
    if docker:
        probe = subprocess.run([docker, "compose", "version"], capture_output=True, timeout=30)
        if probe.returncode == 0:
            return [docker, "compose"]
    standalone = shutil.which("docker-compose")
    if standalone:
        return [standalone]
    pytest.fail("Docker Compose is not installed: run `bash scripts/system-packages.sh test`")


def write_env(folder: Path) -> dict[str, str]:
    subprocess.run(
        ["bash", str(ROOT / "scripts/compose-env.sh"), str(folder / ".env.compose")],
        check=True,
        capture_output=True,
        timeout=30,
    )
    lines = (folder / ".env.compose").read_text().splitlines()
    return dict(line.split("=", 1) for line in lines if line and not line.startswith("#"))


def compose_config(folder: Path, compose_file: Path) -> subprocess.CompletedProcess:
    shutil.copy(compose_file, folder / "docker-compose.yml")
    return subprocess.run(
        [*compose_command(), "-f", str(folder / "docker-compose.yml"), "config"],
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=60,
    )


def command(service: dict) -> str:
    """The command as one string: Compose v1 keeps the string, v2 may
    print the argument list."""
    value = service.get("command", "")
    return " ".join(value) if isinstance(value, list) else value


@pytest.fixture
def resolved(tmp_path) -> tuple[dict, dict]:
    secrets = write_env(tmp_path)
    result = compose_config(tmp_path, ROOT / "docker-compose.yml")
    assert result.returncode == 0, result.stderr
    return yaml.safe_load(result.stdout), secrets


def test_env_script_writes_fresh_secrets_once(tmp_path):
    # Given two generated env files
    (tmp_path / "one").mkdir()
    (tmp_path / "two").mkdir()
    first = write_env(tmp_path / "one")
    second = write_env(tmp_path / "two")
    # Then every secret is there, random, and the Fernet key is valid
    assert set(SECRET_NAMES) <= set(first)
    assert all(first[name] != second[name] for name in SECRET_NAMES)
    Fernet(first["ACORN_FIELD_ENCRYPTION_KEYS"])
    assert len(first["DJANGO_SECRET_KEY"]) >= 50
    assert first["DATABASE_URL"].startswith("postgres://acorn_app:")
    # And only the owner can read the file
    mode = (tmp_path / "one" / ".env.compose").stat().st_mode
    assert stat.S_IMODE(mode) == 0o600
    # When the script runs again, the existing secrets are kept
    assert write_env(tmp_path / "one") == first


def test_compose_rejects_an_invalid_file(tmp_path):
    """Negative control: the validation really reads the file."""
    write_env(tmp_path)
    broken = tmp_path / "broken.yml"
    text = (ROOT / "docker-compose.yml").read_text()
    broken.write_text(text + "\nservices_typo: {}\n")
    result = compose_config(tmp_path, broken)
    assert result.returncode != 0


def test_compose_refuses_to_run_without_the_env_file(tmp_path):
    result = compose_config(tmp_path, ROOT / "docker-compose.yml")
    assert result.returncode != 0
    assert ".env.compose" in result.stderr


def test_every_app_service_runs_production_settings_with_generated_secrets(resolved):
    config, secrets = resolved
    services = config["services"]
    assert set(APP_SERVICES) | {"postgres", "redis"} == set(services)
    for name in APP_SERVICES:
        environment = services[name]["environment"]
        assert environment["DJANGO_SETTINGS_MODULE"] == "acorn.settings.production", name
        for secret in ("DJANGO_SECRET_KEY", "ACORN_FIELD_ENCRYPTION_KEYS", "DATABASE_URL"):
            assert environment[secret] == secrets[secret], (name, secret)
    # Only migrate holds the owner's and the superuser's credentials.
    admin_secrets = ("DATABASE_OWNER_URL", "ACORN_DB_SUPERUSER_URL", "POSTGRES_PASSWORD")
    for secret in admin_secrets:
        assert services["migrate"]["environment"][secret] == secrets[secret]
        for name in ("web", "worker", "beat", "sandbox"):
            assert services[name]["environment"][secret] == "", (name, secret)
    assert services["postgres"]["environment"]["POSTGRES_PASSWORD"] == secrets["POSTGRES_PASSWORD"]
    # No secret is written in the compose file itself (blanks are fine).
    text = (ROOT / "docker-compose.yml").read_text()
    assert re.findall(r"(?:PASSWORD|SECRET_KEY|KEYS):[ \t]*(?!\"\"\s*$)\S+", text, re.M) == []
    assert re.findall(r"://[^/\s:@]+:[^/\s@]+@", text) == []


def test_web_is_gunicorn_with_liveness_and_readiness_checks(resolved):
    config, _secrets = resolved
    web = config["services"]["web"]
    assert command(web).startswith("gunicorn acorn.wsgi:application")
    check = " ".join(web["healthcheck"]["test"])
    assert "http://127.0.0.1:8000/health/live" in check
    assert "http://127.0.0.1:8000/health/ready" in check
    assert web["depends_on"]["migrate"]["condition"] == "service_completed_successfully"


def test_every_long_running_service_has_a_health_check(resolved):
    config, _secrets = resolved
    services = config["services"]
    for name in ("postgres", "redis", "web", "worker", "sandbox"):
        assert services[name]["healthcheck"]["test"], name
    assert "inspect ping" in " ".join(services["worker"]["healthcheck"]["test"])


def test_one_beat_and_the_worker_reaches_the_sandbox_by_name(resolved):
    config, _secrets = resolved
    services = config["services"]
    beats = [name for name, service in services.items() if " beat" in command(service)]
    assert beats == ["beat"]
    assert services["beat"]["deploy"]["replicas"] == 1
    worker = services["worker"]
    assert command(worker).startswith("celery -A acorn.celery_app worker")
    assert worker["environment"]["ACORN_SANDBOX_URL"] == "http://sandbox:8001"
    assert "http://sandbox:8001" in worker["environment"]["ACORN_SPAPI_ENDPOINT_ALLOWLIST"]
    assert worker["depends_on"]["sandbox"]["condition"] == "service_healthy"
    assert "--port 8001" in command(services["sandbox"])


def test_generated_env_file_is_never_committed_or_baked_into_the_image():
    assert "/.env.compose" in (ROOT / ".gitignore").read_text().splitlines()
    assert ".env.*" in (ROOT / ".dockerignore").read_text().splitlines()
