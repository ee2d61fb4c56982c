"""Switch the default connection to the owner role for schema work."""

from __future__ import annotations

from contextlib import contextmanager

import dj_database_url
from django.conf import settings
from django.db import connections

_ROLE_KEYS = ("USER", "PASSWORD", "HOST", "PORT")


@contextmanager
def owner_connection(alias: str = "default"):
    """Run the block on ``alias`` connected as DATABASE_OWNER_URL's role.

    Without an owner URL (one role for everything) the block runs on the
    connection as it is.
    """
    connection = connections[alias]
    owner_url = getattr(settings, "DATABASE_OWNER_URL", "")
    if not owner_url:
        yield connection
        return
    owner = dj_database_url.parse(owner_url)
    saved = {key: connection.settings_dict.get(key) for key in _ROLE_KEYS}
    connection.close()
    connection.settings_dict.update({key: owner.get(key) for key in _ROLE_KEYS})
    try:
        yield connection
    finally:
        connection.close()
        connection.settings_dict.update(saved)
