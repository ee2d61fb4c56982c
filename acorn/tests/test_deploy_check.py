"""Production settings pass Django's deployment checks with no warning."""

import subprocess
import sys
from pathlib import Path

from cryptography.fernet import Fernet

from acorn.env import environment

ROOT = Path(__file__).resolve().parents[2]


def _production_env() -> dict:
    env = {k: v for k, v in environment().items() if not k.startswith(("DJANGO_", "ACORN_"))}
    env.update(
        DJANGO_SETTINGS_MODULE="acorn.settings.production",
        DJANGO_SECRET_KEY=Fernet.generate_key().decode() + Fernet.generate_key().decode(),
        DJANGO_ALLOWED_HOSTS="acorn.example.com",
        DATABASE_URL="postgres://acorn_app@127.0.0.1:5432/acorn",
        REDIS_URL="redis://127.0.0.1:6379/13",
        ACORN_FIELD_ENCRYPTION_KEYS=Fernet.generate_key().decode(),
    )
    return env


def test_check_deploy_reports_no_issue():
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=_production_env(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_production_refuses_to_start_without_its_secrets():
    env = _production_env()
    del env["DJANGO_SECRET_KEY"]
    result = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode != 0
    assert "Set the DJANGO_SECRET_KEY environment variable." in result.stderr
