"""Invoicing tests build on channels' real flow: the sandbox, its LWA
grant and accounts pointing at it (the same fixtures channels uses)."""

from channels.tests.conftest import (  # noqa: F401 (fixtures)
    fast_retries,
    grant,
    live,
    live_account,
    sandbox,
    scope,
    tenant,
)
