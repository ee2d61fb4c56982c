"""LWA's token endpoint: refresh_token grant, as api.amazon.com answers it."""

from __future__ import annotations

from urllib.parse import parse_qs

from vendor_api.sandbox.server import Router, SandboxRequest, SandboxResponse


def _oauth_error(status: int, error: str, description: str) -> SandboxResponse:
    return SandboxResponse(status=status, body={"error": error, "error_description": description})


def token(request: SandboxRequest) -> SandboxResponse:
    state = request.router.state
    state.count("lwa_token_calls")
    fault = state.next_fault(operation="lwa")
    if fault and fault.get("kind") == "status":
        return _oauth_error(int(fault.get("status", 500)), "server_error", "Internal error.")
    form = {key: values[-1] for key, values in parse_qs(request.body.decode()).items()}
    if form.get("grant_type") != "refresh_token":
        return _oauth_error(400, "unsupported_grant_type", "Only refresh_token is supported.")
    client_id = form.get("client_id", "")
    if state.apps.get(client_id) is None or state.apps[client_id] != form.get("client_secret"):
        return _oauth_error(401, "invalid_client", "Client authentication failed.")
    grant = state.grants.get(form.get("refresh_token", ""))
    if grant is None or grant.revoked or grant.client_id != client_id:
        return _oauth_error(
            400, "invalid_grant", "The request has an invalid grant parameter : refresh_token"
        )
    access_token, lifetime = state.issue_token(grant=grant)
    return SandboxResponse(status=200, body={
        "access_token": access_token,
        "refresh_token": grant.refresh_token,
        "token_type": "bearer",
        "expires_in": lifetime,
    })


def register(router: Router) -> None:
    router.add("POST", "/auth/o2/token", token)
