"""The sandbox HTTP server: a small router on the stdlib's ThreadingHTTPServer.

Why the stdlib server rather than WSGI: fault injection needs the raw
socket (a connection reset, a body shorter than its Content-Length, a reply
that never comes), which WSGI hides, and it adds no dependency. One thread
per connection with HTTP/1.1 keep-alive is plenty for 4-8 client processes.

Other apps add their own sandboxes (web stores) without vendor_api importing
them: settings.ACORN_SANDBOX_MOUNTS lists dotted paths to callables
``register(router)`` that call ``router.add(...)``.
"""

from __future__ import annotations

import json
import logging
import re
import socket
import struct
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from django.utils.module_loading import import_string

from vendor_api.sandbox.state import SandboxState

logger = logging.getLogger(__name__)


@dataclass
class SandboxRequest:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: Any
    body: bytes
    path_params: dict[str, str] = field(default_factory=dict)
    base_url: str = ""
    router: Any = None

    def json(self) -> Any:
        if not self.body:
            return None
        return json.loads(self.body)

    def query_value(self, name: str) -> str | None:
        values = self.query.get(name)
        return values[-1] if values else None

    @property
    def flat_query(self) -> dict[str, Any]:
        return {
            key: values[-1] if len(values) == 1 else values
            for key, values in self.query.items()
        }


@dataclass
class SandboxResponse:
    status: int
    body: Any = None  # JSON-able, or bytes sent as is
    headers: dict[str, str] = field(default_factory=dict)
    # Fault applied while sending: "truncate", "reset", ("hang", seconds).
    fault: Any = None
    content_type: str = "application/json"
    # The exact bytes ``body`` encodes to, when a handler has them already
    # (pre-encoded fragments): ``body`` stays the JSON value for validation.
    raw: bytes | None = None

    def encoded(self) -> bytes:
        if self.raw is not None:
            return self.raw
        if isinstance(self.body, bytes):
            return self.body
        if self.body is None:
            return b""
        return json.dumps(self.body, separators=(",", ":")).encode()


Handler = Callable[[SandboxRequest], SandboxResponse]


@dataclass
class Route:
    method: str
    pattern: re.Pattern
    template: str
    handler: Handler


class Router:
    def __init__(self, *, state: SandboxState):
        self.state = state
        self.routes: list[Route] = []
        # Mounted sandboxes keep their own state here, by name.
        self.context: dict[str, Any] = {}

    def add(self, method: str, template: str, handler: Handler) -> None:
        """Route ``template`` (``/a/{name}/b``) for ``method`` to ``handler``."""
        regex = "^" + re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", template) + "$"
        self.routes.append(Route(method.upper(), re.compile(regex), template, handler))

    def dispatch(self, request: SandboxRequest) -> SandboxResponse:
        request.router = self
        allowed = False
        for route in self.routes:
            match = route.pattern.match(request.path)
            if not match:
                continue
            allowed = True
            if route.method != request.method:
                continue
            request.path_params = match.groupdict()
            return route.handler(request)
        if allowed:
            return error_response(405, "MethodNotAllowed", "Method not allowed.")
        return error_response(404, "NotFound", f"No sandbox route for {request.path}.")


def error_response(status: int, code: str, message: str, details: str = "",
                   headers: dict | None = None) -> SandboxResponse:
    return SandboxResponse(
        status=status,
        body={"errors": [{"code": code, "message": message, "details": details}]},
        headers=dict(headers or {}),
    )


class _RequestHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "AcornAmazonSandbox/1.0"
    router: Router

    def log_message(self, format: str, *args) -> None:  # noqa: A002 (stdlib name)
        logger.debug("sandbox %s " + format, self.address_string(), *args)

    def _handle(self) -> None:
        split = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        server_host, server_port = self.server.server_address[:2]
        host = self.headers.get("Host") or f"{server_host}:{server_port}"
        request = SandboxRequest(
            method=self.command,
            path=split.path,
            query=parse_qs(split.query, keep_blank_values=True),
            headers=self.headers,
            body=body,
            base_url=f"http://{host}",
        )
        try:
            response = self.router.dispatch(request)
        except Exception:
            logger.exception("sandbox handler failed for %s %s", self.command, split.path)
            response = error_response(500, "InternalFailure", "We encountered an internal error.")
        self._send(response)

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = _handle

    def _send(self, response: SandboxResponse) -> None:
        payload = response.encoded()
        fault = response.fault
        if fault == "reset":
            self._reset_connection()
            return
        if isinstance(fault, tuple) and fault[0] == "hang":
            time.sleep(fault[1])
        self.send_response(response.status)
        headers = {"x-amzn-RequestId": str(uuid.uuid4()), **response.headers}
        for name, value in headers.items():
            self.send_header(name, value)
        if payload or response.status != 204:
            self.send_header("Content-Type", response.content_type)
        if fault == "truncate":
            # Announce the full length, send half, hang up: a broken body.
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload[: max(1, len(payload) // 2)])
            self.wfile.flush()
            self.close_connection = True
            self._reset_connection()
            return
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def _reset_connection(self) -> None:
        # SO_LINGER 0 makes close() send RST: the client sees a reset.
        self.close_connection = True
        try:
            self.connection.setsockopt(
                socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0)
            )
            self.connection.close()
        except OSError:
            pass


class _QuietThreadingHTTPServer(ThreadingHTTPServer):
    def handle_error(self, request, client_address) -> None:
        # Clients that time out (the hang fault) hang up mid-reply: expected.
        import sys

        if isinstance(sys.exc_info()[1], (BrokenPipeError, ConnectionResetError)):
            return
        super().handle_error(request, client_address)


class SandboxServer:
    def __init__(self, *, host: str = "127.0.0.1", port: int = 0,
                 state: SandboxState | None = None, mounts: list[str] | None = None):
        from vendor_api.sandbox import control, lwa, vendor

        self.state = state or SandboxState()
        self.router = Router(state=self.state)
        lwa.register(self.router)
        vendor.register(self.router)
        control.register(self.router)
        for dotted_path in self._mounts(mounts):
            import_string(dotted_path)(self.router)
        handler = type("SandboxRequestHandler", (_RequestHandler,), {"router": self.router})
        self.httpd = _QuietThreadingHTTPServer((host, port), handler)
        self.httpd.daemon_threads = True
        self._thread: threading.Thread | None = None

    @staticmethod
    def _mounts(explicit: list[str] | None) -> list[str]:
        if explicit is not None:
            return explicit
        from django.conf import settings

        if not settings.configured:
            return []
        return list(getattr(settings, "ACORN_SANDBOX_MOUNTS", []))

    @property
    def base_url(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host}:{port}"

    def serve_forever(self) -> None:
        self.httpd.serve_forever(poll_interval=0.2)

    def start(self) -> SandboxServer:
        self._thread = threading.Thread(target=self.serve_forever, name="amazon-sandbox",
                                        daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        if self._thread:
            self._thread.join(timeout=5)
