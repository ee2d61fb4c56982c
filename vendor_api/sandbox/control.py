"""The control API under /_sandbox/: scenarios for tests and the demo.

POST /_sandbox/reset              {seed?, purchase_orders?}
POST /_sandbox/scenario           Scenario fields: token_lifetime_seconds,
                                  transaction_processing_seconds, transactions_stuck,
                                  report_processing_seconds, rate_limits {op: {rate, burst}},
                                  rate_limit_header {op: rate}, faults [...],
                                  auto_receive, shortage_rate
POST /_sandbox/faults             {faults: [{operation, kind, count|rate, status, seconds}]}
                                  kinds: latency, status (refused before processing),
                                  status_after (processed, then `status`, e.g. 502/504),
                                  no_transaction_id (processed, 2xx without transactionId),
                                  reset, reset_after, truncate, hang, expire_token
                                  (operation "lwa" for the token endpoint)
POST /_sandbox/vendors            {code, currency_code?, country_code?, ship_to?}
POST /_sandbox/apps               {client_id, client_secret, refresh_token, vendor_codes}
POST /_sandbox/grants/revoke      {refresh_token}
POST /_sandbox/tokens/expire      {}
POST /_sandbox/purchase-orders    {vendor_code, count, days}
POST /_sandbox/purchase-orders/{number}/change  {lines: {seq: new_quantity}, cancel: [seq]}
POST /_sandbox/receive            {purchase_order_number, received?: {seq: qty}, shortage_rate?}
GET  /_sandbox/submissions        ?kind=acknowledgement|shipmentConfirmation|shipment|invoice
GET  /_sandbox/stats              counters (lwa_token_calls, calls:<op>, responses:429 ...)
GET  /_sandbox/conformance        schema problems found in served responses
"""

from __future__ import annotations

import dataclasses

from vendor_api.limits import UsagePlan
from vendor_api.sandbox.generator import Vendor
from vendor_api.sandbox.server import Router, SandboxRequest, SandboxResponse, error_response
from vendor_api.sandbox.state import utc_now


def _ok(body=None) -> SandboxResponse:
    return SandboxResponse(status=200, body=body if body is not None else {"ok": True})


def reset(request: SandboxRequest) -> SandboxResponse:
    body = request.json() or {}
    kwargs = {key: body[key] for key in ("seed", "purchase_orders") if key in body}
    request.router.state.reset(**kwargs)
    return _ok()


def scenario(request: SandboxRequest) -> SandboxResponse:
    state = request.router.state
    body = request.json() or {}
    known = {field.name for field in dataclasses.fields(state.scenario)}
    unknown = set(body) - known
    if unknown:
        return error_response(400, "InvalidInput", f"Unknown scenario fields: {sorted(unknown)}")
    with state.lock:
        for key, value in body.items():
            if key == "rate_limits":
                value = {op: UsagePlan(rate=float(p["rate"]), burst=int(p["burst"]))
                         for op, p in value.items()}
            setattr(state.scenario, key, value)
        state.buckets.clear()
    return _ok()


def faults(request: SandboxRequest) -> SandboxResponse:
    state = request.router.state
    with state.lock:
        state.scenario.faults = list((request.json() or {}).get("faults", []))
    return _ok()


def vendors(request: SandboxRequest) -> SandboxResponse:
    body = request.json()
    vendor = Vendor(code=body["code"], currency_code=body.get("currency_code", "USD"),
                    country_code=body.get("country_code", "US"))
    if body.get("ship_to"):
        vendor.ship_to = tuple(body["ship_to"])
    request.router.state.add_vendor(vendor=vendor)
    return _ok()


def apps(request: SandboxRequest) -> SandboxResponse:
    body = request.json()
    request.router.state.add_app(
        client_id=body["client_id"], client_secret=body["client_secret"],
        refresh_token=body["refresh_token"], vendor_codes=tuple(body["vendor_codes"]),
    )
    return _ok()


def revoke(request: SandboxRequest) -> SandboxResponse:
    state = request.router.state
    grant = state.grants.get((request.json() or {}).get("refresh_token", ""))
    if grant is None:
        return error_response(404, "NotFound", "No such refresh token.")
    grant.revoked = True
    return _ok()


def expire_tokens(request: SandboxRequest) -> SandboxResponse:
    request.router.state.expire_tokens()
    return _ok()


def generate(request: SandboxRequest) -> SandboxResponse:
    body = request.json()
    orders = request.router.state.generate(
        vendor_code=body.get("vendor_code", "DEMO1"), count=int(body["count"]),
        days=float(body.get("days", 30)),
    )
    return _ok({"purchase_order_numbers": [po.number for po in orders[:1000]],
                "count": len(orders)})


def change_order(request: SandboxRequest) -> SandboxResponse:
    """Amazon changes a PO: new quantities and/or cancelled lines."""
    state = request.router.state
    po = state.orders.get(request.path_params["number"])
    if po is None:
        return error_response(404, "NotFound", "No such purchase order.")
    body = request.json() or {}
    now = utc_now()

    def change(order) -> None:
        for sequence, quantity in (body.get("lines") or {}).items():
            line = order.line(sequence)
            line.ordered = int(quantity)
            line.quantity_changes.append({"at": now, "ordered": line.ordered, "cancelled": 0})
        for sequence in body.get("cancel") or []:
            line = order.line(sequence)
            line.cancelled = line.ordered
            line.quantity_changes.append({"at": now, "ordered": line.ordered,
                                          "cancelled": line.ordered})
        order.changed = now
        if all(line.open_quantity == 0 for line in order.lines):
            order.state = "Closed"
            order.state_changed = now

    state.touch(po, change)
    return _ok()


def receive(request: SandboxRequest) -> SandboxResponse:
    state = request.router.state
    body = request.json() or {}
    po = state.orders.get(body.get("purchase_order_number", ""))
    if po is None:
        return error_response(404, "NotFound", "No such purchase order.")
    state.receive(order=po, received=body.get("received"),
                  shortage_rate=float(body.get("shortage_rate", 0)))
    return _ok()


def submissions(request: SandboxRequest) -> SandboxResponse:
    state = request.router.state
    kind = request.query_value("kind")
    with state.lock:
        found = [s for s in state.submissions if not kind or s["kind"] == kind]
    return _ok({"submissions": found})


def stats(request: SandboxRequest) -> SandboxResponse:
    state = request.router.state
    with state.lock:
        return _ok({"stats": dict(state.stats), "purchase_orders": len(state.orders)})


def conformance_problems(request: SandboxRequest) -> SandboxResponse:
    with request.router.state.lock:
        return _ok({"problems": list(request.router.state.conformance_problems)})


def health(request: SandboxRequest) -> SandboxResponse:
    return _ok()


def register(router: Router) -> None:
    router.add("GET", "/_sandbox/health", health)
    router.add("POST", "/_sandbox/reset", reset)
    router.add("POST", "/_sandbox/scenario", scenario)
    router.add("POST", "/_sandbox/faults", faults)
    router.add("POST", "/_sandbox/vendors", vendors)
    router.add("POST", "/_sandbox/apps", apps)
    router.add("POST", "/_sandbox/grants/revoke", revoke)
    router.add("POST", "/_sandbox/tokens/expire", expire_tokens)
    router.add("POST", "/_sandbox/purchase-orders", generate)
    router.add("POST", "/_sandbox/purchase-orders/{number}/change", change_order)
    router.add("POST", "/_sandbox/receive", receive)
    router.add("GET", "/_sandbox/submissions", submissions)
    router.add("GET", "/_sandbox/stats", stats)
    router.add("GET", "/_sandbox/conformance", conformance_problems)
