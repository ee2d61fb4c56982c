"""The single reader of environment variables.

Every setting that comes from the environment goes through ``env`` and its
typed siblings; the full list, with comments, is in ``.env.example``. No
other module touches ``os.environ`` (acorn/tests/test_configuration.py
checks the whole repository), so a grep of this file's callers finds every
variable the product reads.
"""

import os

from django.core.exceptions import ImproperlyConfigured

_MISSING = object()
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def env(name: str, default=_MISSING) -> str:
    """Return the variable, or ``default``; raise when it is required."""
    value = os.environ.get(name)
    if value is None:
        if default is _MISSING:
            raise ImproperlyConfigured(f"Set the {name} environment variable.")
        return default
    return value


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    lowered = value.strip().lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name} must be a boolean, not {value!r}.")


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    try:
        return int(value)
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name} must be an integer, not {value!r}.") from exc


def env_float(name: str, default: float) -> float:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    try:
        return float(value)
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name} must be a number, not {value!r}.") from exc


def env_list(name: str, default: list[str] | None = None, separator: str = ",") -> list[str]:
    value = os.environ.get(name)
    if value is None:
        return list(default or [])
    return [item.strip() for item in value.split(separator) if item.strip()]


def env_default(name: str, value: str) -> None:
    """Give ``name`` a value for this process and its children unless set.

    For entry points choosing their settings module, and for the test and
    benchmark settings choosing their own database before base reads it.
    """
    os.environ.setdefault(name, value)


def settings_module_default(module: str) -> None:
    """The settings module an entry point uses when none is configured."""
    env_default("DJANGO_SETTINGS_MODULE", module)


def environment() -> dict[str, str]:
    """A copy of this process's environment, to start a child process with."""
    return dict(os.environ)
