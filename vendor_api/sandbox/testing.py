"""Start a sandbox for tests (any app's) and talk to its control API.

    with running_sandbox() as sandbox:
        client = sandbox.client(cache=..., limiter=...)
        sandbox.control("POST", "/_sandbox/faults", {"faults": [...]})

The server runs in a thread of the test process on a free 127.0.0.1 port;
client processes reach it over real HTTP like any other.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import requests

from vendor_api.client import VendorApiClient
from vendor_api.endpoints import Endpoint
from vendor_api.lwa import LwaCredentials
from vendor_api.sandbox.server import SandboxServer
from vendor_api.sandbox.state import (
    DEFAULT_SEED,
    DEMO_CLIENT_ID,
    DEMO_CLIENT_SECRET,
    DEMO_PURCHASE_ORDERS,
    DEMO_REFRESH_TOKEN,
    DEMO_VENDOR_CODE,
    SandboxState,
)

DEMO_CREDENTIALS = LwaCredentials(
    client_id=DEMO_CLIENT_ID, client_secret=DEMO_CLIENT_SECRET, refresh_token=DEMO_REFRESH_TOKEN
)


@dataclass
class SandboxHandle:
    server: SandboxServer
    state: SandboxState
    base_url: str

    @property
    def endpoint(self) -> Endpoint:
        return Endpoint.local_sandbox(base_url=self.base_url)

    credentials = DEMO_CREDENTIALS
    vendor_code = DEMO_VENDOR_CODE

    def control(self, method: str, path: str, body: Any = None) -> Any:
        response = requests.request(method, self.base_url + path, json=body, timeout=10)
        response.raise_for_status()
        return response.json()

    def stats(self) -> dict[str, int]:
        return self.control("GET", "/_sandbox/stats")["stats"]

    def client(self, **kwargs):

        kwargs.setdefault("credentials", self.credentials)
        kwargs.setdefault("selling_partner_id", self.vendor_code)
        return VendorApiClient(endpoint=self.endpoint, **kwargs)


@contextlib.contextmanager
def running_sandbox(
    *, seed: int = DEFAULT_SEED, purchase_orders: int = DEMO_PURCHASE_ORDERS,
    mounts: list[str] | None = None, validate_responses: bool = True,
) -> Iterator[SandboxHandle]:
    """A sandbox on a free 127.0.0.1 port for the duration of the block.

    ``validate_responses`` checks every served body against Amazon's models
    and records problems in ``handle.state.conformance_problems``.
    """
    state = SandboxState(seed=seed, purchase_orders=purchase_orders,
                         validate_responses=validate_responses)
    server = SandboxServer(host="127.0.0.1", port=0, state=state,
                           mounts=mounts if mounts is not None else [])
    server.start()
    try:
        yield SandboxHandle(server=server, state=state, base_url=server.base_url)
    finally:
        server.stop()
