"""What every sandbox SP-API operation shares: the request pipeline and
the small helpers of the handlers.

Every call goes through ``operation_endpoint``: faults, token check, rate
limit, validation of the request against the repository's contracts
(``vendor_api.contracts``: 400 InvalidInput, as Amazon answers), the
handler, then (in tests) the response checked against Amazon's models.
Unknown query parameters are ignored, as Amazon ignores them.
"""

from __future__ import annotations

import base64
import datetime
import json
import time
from collections.abc import Callable
from decimal import Decimal, InvalidOperation

from vendor_api import conformance, contracts
from vendor_api.sandbox.generator import SandboxPurchaseOrder
from vendor_api.sandbox.server import SandboxRequest, SandboxResponse, error_response
from vendor_api.sandbox.state import Grant, SandboxState, format_time, utc_now

MAX_WINDOW = datetime.timedelta(days=7)
QUOTA_MESSAGE = "You exceeded your quota for the requested resource."
ACCESS_DENIED = "Access to requested resource is denied."
# Larger than any amount on a real PO or invoice (Decimal strings may say
# "1E+999999"): treated as not a number.
MAX_AMOUNT = Decimal("1E+15")

OperationHandler = Callable[[SandboxRequest, Grant, SandboxState], SandboxResponse]


def _rate_header(state: SandboxState, operation: str) -> dict[str, str]:
    announced = state.scenario.rate_limit_header.get(operation)
    if announced is None:
        plan = state.plan_for(operation)
        announced = plan.rate if plan else None
    return {"x-amzn-RateLimit-Limit": str(announced)} if announced is not None else {}


# The errors[] code Amazon sends with each status a fault can inject.
FAULT_ERRORS: dict[int, tuple[str, str]] = {
    400: ("InvalidInput", "Request has missing or invalid parameters and cannot be parsed."),
    403: ("AccessDenied", ACCESS_DENIED),
    404: ("NotFound", "The resource specified does not exist."),
    429: ("QuotaExceeded", QUOTA_MESSAGE),
    503: ("ServiceUnavailable", "Temporary overloading or maintenance of the server."),
}


def fault_response(status: int) -> SandboxResponse:
    code, message = FAULT_ERRORS.get(
        status, ("InternalFailure", "We encountered an internal error. Please try again.")
    )
    return error_response(status, code, message)


def _check_response(state: SandboxState, operation: str, response: SandboxResponse) -> None:
    """Tests only: the served body against Amazon's official models."""

    found = conformance.validate_response(
        operation_id=operation, status=response.status, body=response.body
    )
    if found:
        with state.lock:
            state.conformance_problems.extend(found)


def operation_endpoint(operation: str, handler: OperationHandler):
    def handle(request: SandboxRequest) -> SandboxResponse:
        state: SandboxState = request.router.state
        state.count(f"calls:{operation}")
        state.settle_due()
        fault = state.next_fault(operation=operation)
        kind = fault.get("kind") if fault else None
        if kind == "latency":
            time.sleep(float(fault.get("seconds", 1)))
        elif kind == "expire_token":
            state.expire_tokens()
        elif kind == "status":
            # Refused before any processing: nothing is applied.
            return fault_response(int(fault.get("status", 500)))
        elif kind == "reset":
            return SandboxResponse(status=500, fault="reset")

        grant, problem = state.grant_for_token(request.headers.get("x-amz-access-token") or "")
        if grant is None:
            details = {
                "expired": "The access token you provided has expired.",
                "invalid": "The access token you provided is revoked, malformed or invalid.",
            }[problem]
            if not request.headers.get("x-amz-access-token"):
                details = "The request is missing the x-amz-access-token header."
            state.count("responses:403")
            return error_response(403, "Unauthorized", ACCESS_DENIED, details)
        if not state.take_token(grant_key=grant.refresh_token, operation=operation):
            state.count("responses:429")
            state.count(f"throttled:{operation}")
            return error_response(429, "QuotaExceeded", QUOTA_MESSAGE,
                                  headers=_rate_header(state, operation))
        try:
            body = request.json()
        except ValueError:
            return error_response(400, "InvalidInput", "The request body is not valid JSON.")
        problems = contracts.request_problems(
            operation_id=operation, query=request.flat_query, path_params=request.path_params,
            body=body,
        )
        if problems:
            state.count("responses:400")
            response = error_response(400, "InvalidInput", "; ".join(problems)[:2000])
        else:
            response = handler(request, grant, state)
            if kind == "status_after" and response.status < 300:
                # Processed (the write is applied), then a gateway or
                # server error on the way back: the POST's outcome is
                # unknown to the caller.
                response = fault_response(int(fault.get("status", 502)))
            elif kind == "no_transaction_id" and response.status < 300:
                # Processed, answered 2xx, but without a transactionId.
                response = SandboxResponse(status=int(fault.get("status", 202)),
                                           body={"payload": {}})
        if state.validate_responses and kind is None and not isinstance(response.body, bytes):
            _check_response(state, operation, response)
        if response.status < 300 or response.status in (400, 404):
            response.headers.update(_rate_header(state, operation))
        if kind == "truncate":
            response.fault = "truncate"
        elif kind == "reset_after":
            response.fault = "reset"
        elif kind == "hang":
            response.fault = ("hang", float(fault.get("seconds", 60)))
        return response

    return handle


def parse_time(raw: str | None) -> datetime.datetime | None:
    if not raw:
        return None
    value = datetime.datetime.fromisoformat(raw.replace("Z", "+00:00"))
    return value if value.tzinfo else value.replace(tzinfo=datetime.UTC)


def window(request: SandboxRequest, *, after_name: str, before_name: str,
            default_to_now: bool) -> tuple[datetime.datetime, datetime.datetime] | None:
    after = parse_time(request.query_value(after_name))
    before = parse_time(request.query_value(before_name))
    if after is None and before is None and not default_to_now:
        return None
    before = before or utc_now()
    after = after or before - MAX_WINDOW
    return after, before


class BadRequest(Exception):
    pass


def too_long(window) -> bool:
    return window is not None and window[1] - window[0] > MAX_WINDOW


def money(amount: Decimal, currency: str) -> dict:
    return {"currencyCode": currency, "amount": format(amount, "f")}


def encode(value) -> bytes:
    """``SandboxResponse.encoded`` of a JSON value."""
    return json.dumps(value, separators=(",", ":")).encode()


def visible(po: SandboxPurchaseOrder, grant: Grant) -> bool:
    return po.vendor_code in grant.vendor_codes


def bad_request(message: str) -> SandboxResponse:
    return error_response(400, "InvalidInput", message)


def transaction_accepted(request_body: dict, state: SandboxState, *, kind: str,
                         errors: list[dict], apply=None) -> SandboxResponse:
    """202 with a new transactionId; the document is recorded as received."""
    transaction = state.new_transaction(kind=kind, errors=errors, apply=apply)
    with state.lock:
        state.submissions.append({
            "kind": kind, "transactionId": transaction.transaction_id, "body": request_body,
            "receivedAt": format_time(utc_now()),
        })
    return SandboxResponse(
        status=202, body={"payload": {"transactionId": transaction.transaction_id}}
    )


def business_error(code: str, message: str) -> dict:
    return {"code": code, "message": message}


def decimal_or_none(raw) -> Decimal | None:
    """A usable amount, or None (absent, not a number, NaN, Infinity, or
    beyond any real amount, whose arithmetic would overflow)."""
    try:
        value = Decimal(str(raw)) if raw is not None else None
    except InvalidOperation:
        return None
    if value is None or not value.is_finite() or abs(value) > MAX_AMOUNT:
        return None
    return value


def find_line(po: SandboxPurchaseOrder, item: dict):
    if item.get("itemSequenceNumber"):
        line = po.line(str(item["itemSequenceNumber"]))
        if line:
            return line
    for line in po.lines:
        if item.get("amazonProductIdentifier") in (line.asin,) or item.get(
            "vendorProductIdentifier"
        ) in (line.vendor_sku,):
            return line
    return None


def eaches(amount: int) -> dict:
    return {"amount": amount, "unitOfMeasure": "Eaches", "unitSize": 1}


def offset_page(request: SandboxRequest, items: list, default_limit: int = 50):
    start = 0
    if request.query_value("nextToken"):
        try:
            start = int(base64.urlsafe_b64decode(request.query_value("nextToken")).decode())
        except ValueError:
            raise BadRequest("The nextToken is invalid.") from None
    limit = int(request.query_value("limit") or default_limit)
    page = items[start:start + limit]
    token = None
    if start + limit < len(items):
        token = base64.urlsafe_b64encode(str(start + limit).encode()).decode()
    return page, token
