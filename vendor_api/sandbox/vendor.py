"""The SP-API vendor operations, answering with the official shapes.

Every call goes through ``_operation``: faults, token check, rate limit,
schema validation of the request (400 InvalidInput), the handler, then
schema validation of the response (problems are recorded for the tests).
"""

from __future__ import annotations

import base64
import bisect
import datetime
import hashlib
import json
import time
from collections.abc import Callable
from decimal import Decimal, InvalidOperation

from vendor_api import conformance
from vendor_api.sandbox import reports as report_documents
from vendor_api.sandbox.generator import SandboxPurchaseOrder
from vendor_api.sandbox.server import Router, SandboxRequest, SandboxResponse, error_response
from vendor_api.sandbox.state import Grant, SandboxState, format_time, utc_now

MAX_WINDOW = datetime.timedelta(days=7)
QUOTA_MESSAGE = "You exceeded your quota for the requested resource."
ACCESS_DENIED = "Access to requested resource is denied."
# A 1x1 PDF is enough for a label the client decodes and stores.
LABEL_PDF = base64.b64encode(b"%PDF-1.4\n% sandbox label\n%%EOF\n").decode()

OperationHandler = Callable[[SandboxRequest, Grant, SandboxState], SandboxResponse]


def _rate_header(state: SandboxState, operation: str) -> dict[str, str]:
    announced = state.scenario.rate_limit_header.get(operation)
    if announced is None:
        plan = state.plan_for(operation)
        announced = plan.rate if plan else None
    return {"x-amzn-RateLimit-Limit": str(announced)} if announced is not None else {}


def _operation(operation: str, handler: OperationHandler):
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
            status = int(fault.get("status", 500))
            code = "ServiceUnavailable" if status == 503 else "InternalFailure"
            return error_response(
                status, code, "We encountered an internal error. Please try again."
            )
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
        problems = conformance.validate_request(
            operation_id=operation, query=request.flat_query, path_params=request.path_params,
            body=body,
        )
        if problems:
            state.count("responses:400")
            response = error_response(400, "InvalidInput", "; ".join(problems)[:2000])
        else:
            response = handler(request, grant, state)
        if state.validate_responses and not isinstance(response.body, bytes):
            found = conformance.validate_response(
                operation_id=operation, status=response.status, body=response.body
            )
            if found:
                with state.lock:
                    state.conformance_problems.extend(found)
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


def _parse_time(raw: str | None) -> datetime.datetime | None:
    if not raw:
        return None
    value = datetime.datetime.fromisoformat(raw.replace("Z", "+00:00"))
    return value if value.tzinfo else value.replace(tzinfo=datetime.UTC)


def _window(request: SandboxRequest, *, after_name: str, before_name: str,
            default_to_now: bool) -> tuple[datetime.datetime, datetime.datetime] | None:
    after = _parse_time(request.query_value(after_name))
    before = _parse_time(request.query_value(before_name))
    if after is None and before is None and not default_to_now:
        return None
    before = before or utc_now()
    after = after or before - MAX_WINDOW
    return after, before


class BadRequest(Exception):
    pass


def _page_token(*, key: tuple[datetime.datetime, str], fingerprint: str) -> str:
    raw = json.dumps({"k": [key[0].isoformat(), key[1]], "f": fingerprint}).encode()
    return base64.urlsafe_b64encode(raw).decode()


def _read_page_token(token: str, fingerprint: str) -> tuple[datetime.datetime, str]:
    try:
        data = json.loads(base64.urlsafe_b64decode(token.encode()))
        key = (datetime.datetime.fromisoformat(data["k"][0]), str(data["k"][1]))
    except (ValueError, KeyError, TypeError, IndexError):
        raise BadRequest("The nextToken is invalid.") from None
    if data.get("f") != fingerprint:
        raise BadRequest("The nextToken was issued for different request parameters.")
    return key


def _fingerprint(request: SandboxRequest) -> str:
    stable = sorted(
        (k, v) for k, v in request.flat_query.items() if k not in ("nextToken", "limit")
    )
    return hashlib.sha256(json.dumps(stable, default=str).encode()).hexdigest()[:16]


def _sort_key(po: SandboxPurchaseOrder) -> tuple[datetime.datetime, str]:
    return (po.created, po.number)


def _paginate(request: SandboxRequest, orders: list[SandboxPurchaseOrder]):
    """Sort by creation date, resume after the token's key, cut at limit."""
    descending = request.query_value("sortOrder") == "DESC"
    orders = sorted(orders, key=_sort_key, reverse=descending)
    fingerprint = _fingerprint(request)
    token = request.query_value("nextToken")
    if token:
        resume_after = _read_page_token(token, fingerprint)
        keys = [_sort_key(po) for po in orders]
        if descending:
            # keys descend: skip while key >= resume_after
            start = len(keys) - bisect.bisect_left(keys[::-1], resume_after)
        else:
            start = bisect.bisect_right(keys, resume_after)
        orders = orders[start:]
    limit = int(request.query_value("limit") or 100)
    page = orders[:limit]
    next_token = None
    if len(orders) > limit:
        next_token = _page_token(key=_sort_key(page[-1]), fingerprint=fingerprint)
    return page, next_token


def _too_long(window) -> bool:
    return window is not None and window[1] - window[0] > MAX_WINDOW


def _money(amount: Decimal, currency: str) -> dict:
    return {"currencyCode": currency, "amount": format(amount, "f")}


def _interval(bounds: tuple[datetime.datetime, datetime.datetime]) -> str:
    return f"{format_time(bounds[0])}--{format_time(bounds[1])}"


def _ship_to_address(po: SandboxPurchaseOrder) -> dict:
    return {
        "name": f"Amazon.com Services, Inc. {po.ship_to}",
        "addressLine1": f"{100 + sum(map(ord, po.ship_to)) % 800} Fulfillment Way",
        "city": "Sandbox City",
        "stateOrRegion": "PA",
        "postalCode": "18031",
        "countryCode": po.country_code,
    }


_ORDER_JSON_CACHE: dict[tuple[str, datetime.datetime, str], tuple[dict, bytes]] = {}


def _order_cached(po: SandboxPurchaseOrder) -> tuple[dict, bytes]:
    """(JSON value, its compact encoding) of a PO's current version."""
    version = (po.number, po.updated, po.state)
    cached = _ORDER_JSON_CACHE.get(version)
    if cached is None:
        value = _order_json(po)
        cached = _ORDER_JSON_CACHE[version] = (value, _encode(value))
    return cached


def _encode(value) -> bytes:
    """``SandboxResponse.encoded`` of a JSON value."""
    return json.dumps(value, separators=(",", ":")).encode()


def order_json(po: SandboxPurchaseOrder, *, include_details: bool = True) -> dict:
    """A PO as Amazon serialises it; cached per version (20,000-PO pages stay cheap)."""
    if not include_details:
        return {"purchaseOrderNumber": po.number, "purchaseOrderState": po.state}
    return _order_cached(po)[0]


def order_json_warm(orders) -> None:
    """Build (and encode) the cached JSON of ``orders`` ahead of serving them."""
    for po in orders:
        _order_cached(po)


def _order_json(po: SandboxPurchaseOrder) -> dict:
    data = {"purchaseOrderNumber": po.number, "purchaseOrderState": po.state}
    details = {
        "purchaseOrderDate": format_time(po.created),
        "purchaseOrderStateChangedDate": format_time(po.state_changed or po.created),
        "purchaseOrderType": po.order_type,
        "paymentMethod": po.payment_method,
        "buyingParty": {"partyId": po.ship_to, "address": _ship_to_address(po)},
        "sellingParty": {"partyId": po.vendor_code},
        "shipToParty": {"partyId": po.ship_to, "address": _ship_to_address(po)},
        "billToParty": {
            "partyId": "AMAZON",
            "address": {"name": "Amazon.com, Inc.", "addressLine1": "PO Box 80387",
                        "city": "Seattle", "stateOrRegion": "WA", "postalCode": "98108",
                        "countryCode": po.country_code},
        },
        "shipWindow": _interval(po.ship_window),
        "deliveryWindow": _interval(po.delivery_window),
        "items": [
            {
                "itemSequenceNumber": line.sequence,
                "amazonProductIdentifier": line.asin,
                "vendorProductIdentifier": line.vendor_sku,
                "orderedQuantity": {"amount": line.open_quantity, "unitOfMeasure": "Eaches",
                                    "unitSize": 1},
                "isBackOrderAllowed": line.back_order_allowed,
                "netCost": _money(line.net_cost, po.currency_code),
                "listPrice": _money(line.list_price, po.currency_code),
            }
            for line in po.lines
        ],
    }
    if po.changed:
        details["purchaseOrderChangedDate"] = format_time(po.changed)
    data["orderDetails"] = details
    return data


def _visible(po: SandboxPurchaseOrder, grant: Grant) -> bool:
    return po.vendor_code in grant.vendor_codes


def _bad(message: str) -> SandboxResponse:
    return error_response(400, "InvalidInput", message)


def get_purchase_orders(request: SandboxRequest, grant: Grant, state: SandboxState):
    created = _window(request, after_name="createdAfter", before_name="createdBefore",
                      default_to_now=False)
    changed = _window(request, after_name="changedAfter", before_name="changedBefore",
                      default_to_now=False)
    if created is None and changed is None:
        created = _window(request, after_name="createdAfter", before_name="createdBefore",
                          default_to_now=True)
    if _too_long(created) or _too_long(changed):
        return _bad("The date range must not exceed 7 days.")
    vendor_code = request.query_value("orderingVendorCode")
    wanted_state = request.query_value("purchaseOrderState")
    only_changed = request.query_value("isPOChanged") == "true"
    only_cancelled = request.query_value("poItemState") == "Cancelled"

    def wanted(po: SandboxPurchaseOrder) -> bool:
        return (_visible(po, grant)
                and (not vendor_code or po.vendor_code == vendor_code)
                and (not wanted_state or po.state == wanted_state)
                and (not only_changed or po.changed is not None)
                and (not only_cancelled or any(line.cancelled for line in po.lines)))

    include_details = request.query_value("includeDetails") != "false"
    if created is not None and changed is None and request.query_value("sortOrder") != "DESC":
        # The created index is in page order already: bisect to the page
        # and read limit + 1 matching POs instead of filtering and sorting
        # the whole range for every page.
        try:
            page, next_token = _created_page(request, state, created, wanted)
        except BadRequest as error:
            return _bad(str(error))
        return _orders_response(page, next_token, include_details=include_details)
    if created is not None:
        orders = state.window(index_name="created", after=created[0], before=created[1])
        if changed is not None:
            orders = [po for po in orders if changed[0] <= po.updated < changed[1]]
    else:
        orders = state.window(index_name="updated", after=changed[0], before=changed[1])
    orders = [po for po in orders if wanted(po)]
    try:
        page, next_token = _paginate(request, orders)
    except BadRequest as error:
        return _bad(str(error))
    return _orders_response(page, next_token, include_details=include_details)


def _created_page(request: SandboxRequest, state: SandboxState, created, wanted):
    """``_paginate`` of the wanted POs created in ``created``, ascending,
    read straight off the sorted created index."""
    fingerprint = _fingerprint(request)
    token = request.query_value("nextToken")
    resume_after = _read_page_token(token, fingerprint) if token else None
    limit = int(request.query_value("limit") or 100)
    with state.lock:
        index = state.created_index
        start = bisect.bisect_left(index, (created[0], ""))
        end = bisect.bisect_left(index, (created[1], ""))
        if resume_after is not None:
            start = max(start, bisect.bisect_right(index, resume_after))
        found = []
        for position in range(start, end):
            po = state.orders[index[position][1]]
            if wanted(po):
                found.append(po)
                if len(found) > limit:
                    break
    page = found[:limit]
    next_token = None
    if len(found) > limit:
        next_token = _page_token(key=_sort_key(page[-1]), fingerprint=fingerprint)
    return page, next_token


def _orders_response(page, next_token, *, include_details: bool) -> SandboxResponse:
    """The getPurchaseOrders 200 answer; its bytes joined from each PO's
    cached encoding (the same bytes as encoding the whole body)."""
    if include_details:
        cached = [_order_cached(po) for po in page]
        orders = [value for value, _ in cached]
        raw = b'{"payload":{"orders":[' + b",".join(data for _, data in cached) + b"]"
    else:
        orders = [order_json(po, include_details=False) for po in page]
        raw = None
    payload: dict = {"orders": orders}
    if next_token:
        payload["pagination"] = {"nextToken": next_token}
    if raw is not None:
        if next_token:
            raw += b',"pagination":{"nextToken":' + _encode(next_token) + b"}"
        raw += b"}}"
    return SandboxResponse(status=200, body={"payload": payload}, raw=raw)


def get_purchase_order(request: SandboxRequest, grant: Grant, state: SandboxState):
    po = state.orders.get(request.path_params["purchaseOrderNumber"])
    if po is None or not _visible(po, grant):
        return error_response(404, "NotFound", "The purchase order was not found.")
    return SandboxResponse(status=200, body={"payload": order_json(po)})


def _accepted(request_body: dict, state: SandboxState, *, kind: str, errors: list[dict],
              apply=None) -> SandboxResponse:
    transaction = state.new_transaction(kind=kind, errors=errors, apply=apply)
    with state.lock:
        state.submissions.append({
            "kind": kind, "transactionId": transaction.transaction_id, "body": request_body,
            "receivedAt": format_time(utc_now()),
        })
    return SandboxResponse(
        status=202, body={"payload": {"transactionId": transaction.transaction_id}}
    )


def _error(code: str, message: str) -> dict:
    return {"code": code, "message": message}


def _decimal(raw) -> Decimal | None:
    try:
        return Decimal(str(raw)) if raw is not None else None
    except InvalidOperation:
        return None


def _find_line(po: SandboxPurchaseOrder, item: dict):
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


def submit_acknowledgement(request: SandboxRequest, grant: Grant, state: SandboxState):
    body = request.json()
    errors: list[dict] = []
    changes = []
    for ack in body.get("acknowledgements", []):
        number = ack["purchaseOrderNumber"]
        po = state.orders.get(number)
        seller = ack["sellingParty"]["partyId"]
        if po is None or not _visible(po, grant) or po.vendor_code != seller:
            errors.append(_error("INVALID_ORDER_ID", f"Invalid order ID {number}."))
            continue
        if po.state == "Closed":
            errors.append(_error("PO_CLOSED", f"Purchase order {number} is closed and cannot be "
                                              "acknowledged."))
            continue
        line_results = []
        for item in ack["items"]:
            line = _find_line(po, item)
            if line is None:
                errors.append(_error("INVALID_ITEM", f"Purchase order {number} has no line "
                                     f"matching {item.get('itemSequenceNumber') or item.get('amazonProductIdentifier') or item.get('vendorProductIdentifier')}."))  # noqa: E501
                continue
            cost = _decimal((item.get("netCost") or {}).get("amount"))
            if cost is not None and cost != line.net_cost:
                errors.append(_error(
                    "NET_COST_MISMATCH",
                    f"Net cost {cost} for line {line.sequence} of {number} differs from the "
                    f"purchase order cost {line.net_cost}.",
                ))
                continue
            total = sum(a["acknowledgedQuantity"]["amount"] for a in item["itemAcknowledgements"])
            if total > line.open_quantity:
                errors.append(_error(
                    "QUANTITY_EXCEEDS_ORDERED",
                    f"Acknowledged {total} for line {line.sequence} of {number}, ordered "
                    f"{line.open_quantity}.",
                ))
                continue
            line_results.append((line, item["itemAcknowledgements"]))
        changes.append((po, line_results, ack["acknowledgementDate"]))

    def apply() -> None:
        for po, line_results, acknowledged_at in changes:
            def change(order: SandboxPurchaseOrder, line_results=line_results,
                       acknowledged_at=acknowledged_at) -> None:
                for line, acknowledgements in line_results:
                    accepted = sum(a["acknowledgedQuantity"]["amount"] for a in acknowledgements
                                   if a["acknowledgementCode"] in ("Accepted", "Backordered"))
                    rejected = sum(a["acknowledgedQuantity"]["amount"] for a in acknowledgements
                                   if a["acknowledgementCode"] == "Rejected")
                    # An update replaces the earlier acknowledgement of the line.
                    line.accepted, line.rejected = accepted, rejected
                    line.acknowledgements.append({"at": acknowledged_at, "accepted": accepted,
                                                  "rejected": rejected})
                order.state = "Acknowledged"
                order.state_changed = utc_now()
            state.touch(po, change)

    return _accepted(body, state, kind="acknowledgement", errors=errors, apply=apply)


def _quantity(amount: int) -> dict:
    return {"amount": amount, "unitOfMeasure": "Eaches", "unitSize": 1}


def _confirmation_status(line) -> str:
    if not line.acknowledgements:
        return "UNCONFIRMED"
    if line.accepted >= line.open_quantity and line.accepted > 0:
        return "ACCEPTED"
    if line.accepted > 0:
        return "PARTIALLY_ACCEPTED"
    return "REJECTED"


def _receive_status(line) -> str:
    if line.received <= 0:
        return "NOT_RECEIVED"
    if line.received < (line.accepted or line.open_quantity):
        return "PARTIALLY_RECEIVED"
    return "RECEIVED"


def order_status_json(po: SandboxPurchaseOrder) -> dict:
    items = []
    for line in po.lines:
        receiving = {"receiveStatus": _receive_status(line),
                     "receivedQuantity": _quantity(line.received)}
        if line.last_receive_date:
            receiving["lastReceiveDate"] = format_time(line.last_receive_date)
        items.append({
            "itemSequenceNumber": line.sequence,
            "buyerProductIdentifier": line.asin,
            "vendorProductIdentifier": line.vendor_sku,
            "netCost": _money(line.net_cost, po.currency_code),
            "listPrice": _money(line.list_price, po.currency_code),
            "orderedQuantity": {
                "orderedQuantity": _quantity(line.open_quantity),
                "orderedQuantityDetails": [
                    {"updatedDate": format_time(change["at"]),
                     "orderedQuantity": _quantity(change["ordered"] - change["cancelled"]),
                     "cancelledQuantity": _quantity(change["cancelled"])}
                    for change in line.quantity_changes
                ],
            },
            "acknowledgementStatus": {
                "confirmationStatus": _confirmation_status(line),
                "acceptedQuantity": _quantity(line.accepted),
                "rejectedQuantity": _quantity(line.rejected),
                "acknowledgementStatusDetails": [
                    {"acknowledgementDate": ack["at"],
                     "acceptedQuantity": _quantity(ack["accepted"]),
                     "rejectedQuantity": _quantity(ack["rejected"])}
                    for ack in line.acknowledgements
                ],
            },
            "receivingStatus": receiving,
        })
    return {
        "purchaseOrderNumber": po.number,
        "purchaseOrderStatus": "CLOSED" if po.state == "Closed" else "OPEN",
        "purchaseOrderDate": format_time(po.created),
        "lastUpdatedDate": format_time(po.updated),
        "sellingParty": {"partyId": po.vendor_code},
        "shipToParty": {"partyId": po.ship_to, "address": _ship_to_address(po)},
        "itemStatus": items,
    }


def get_purchase_orders_status(request: SandboxRequest, grant: Grant, state: SandboxState):
    number = request.query_value("purchaseOrderNumber")
    created = _window(request, after_name="createdAfter", before_name="createdBefore",
                      default_to_now=False)
    updated = _window(request, after_name="updatedAfter", before_name="updatedBefore",
                      default_to_now=False)
    if _too_long(created) or _too_long(updated):
        return _bad("The date range must not exceed 7 days.")
    if number:
        orders = [state.orders[number]] if number in state.orders else []
    elif created is not None or updated is None:
        created = created or _window(request, after_name="createdAfter",
                                     before_name="createdBefore", default_to_now=True)
        orders = state.window(index_name="created", after=created[0], before=created[1])
    else:
        orders = state.window(index_name="updated", after=updated[0], before=updated[1])
    if updated is not None:
        orders = [po for po in orders if updated[0] <= po.updated < updated[1]]
    filters = {
        "purchaseOrderStatus": lambda po, v: ("CLOSED" if po.state == "Closed" else "OPEN") == v,
        "itemConfirmationStatus": lambda po, v: any(
            _confirmation_status(line) == v for line in po.lines),
        "itemReceiveStatus": lambda po, v: any(_receive_status(line) == v for line in po.lines),
        "orderingVendorCode": lambda po, v: po.vendor_code == v,
        "shipToPartyId": lambda po, v: po.ship_to == v,
    }
    for name, matches in filters.items():
        value = request.query_value(name)
        if value:
            orders = [po for po in orders if matches(po, value)]
    orders = [po for po in orders if _visible(po, grant)]
    try:
        page, next_token = _paginate(request, orders)
    except BadRequest as error:
        return _bad(str(error))
    payload: dict = {"ordersStatus": [order_status_json(po) for po in page]}
    if next_token:
        payload["pagination"] = {"nextToken": next_token}
    return SandboxResponse(status=200, body={"payload": payload})


# vendorShipments.json, billOfLadingNumber: "mandatory in Shipment
# Confirmation message for FTL and LTL shipments".
BOL_SHIPMENT_TYPES = ("TruckLoad", "LessThanTruckLoad")


def _asn_structure_errors(asn: dict) -> list[dict]:
    """Business rules of one ASN beyond its schema: the BOL of truck
    shipments, and pallets that point at the ASN's own cartons."""
    identifier = asn["shipmentIdentifier"]
    errors = []
    if asn.get("shipmentType") in BOL_SHIPMENT_TYPES and not (
        asn.get("transportationDetails") or {}
    ).get("billOfLadingNumber"):
        errors.append(_error(
            "MISSING_BILL_OF_LADING",
            f"Shipment {identifier}: the bill of lading number is mandatory for "
            f"{asn['shipmentType']} shipments.",
        ))
    cartons = {carton["cartonSequenceNumber"] for carton in asn.get("cartons") or []}
    on_pallets: set[str] = set()
    for pallet in asn.get("pallets") or []:
        references = pallet.get("cartonReferenceDetails") or {}
        numbers = references.get("cartonReferenceNumbers") or []
        pallet_id = pallet["palletIdentifiers"][0]["containerIdentificationNumber"] if pallet[
            "palletIdentifiers"] else "?"
        unknown = [n for n in numbers if n not in cartons]
        twice = [n for n in numbers if n in on_pallets]
        on_pallets.update(numbers)
        count = references.get("cartonCount")
        if unknown or twice or (count is not None and count != len(numbers)):
            errors.append(_error(
                "INVALID_CARTON_REFERENCE",
                f"Shipment {identifier}: pallet {pallet_id} refers to cartons that are not in "
                f"the shipment, are on another pallet, or disagree with its carton count.",
            ))
    return errors


def submit_shipment_confirmations(request: SandboxRequest, grant: Grant, state: SandboxState):
    body = request.json()
    errors: list[dict] = []
    accepted = []
    for asn in body.get("shipmentConfirmations", []):
        identifier = asn["shipmentIdentifier"]
        known = identifier in state.shipment_confirmations
        if asn["shipmentConfirmationType"] == "Original" and known:
            errors.append(_error("DUPLICATE_SHIPMENT_ID",
                                 f"Shipment identifier {identifier} was already used."))
            continue
        if asn["shipmentConfirmationType"] == "Replace" and not known:
            errors.append(_error("INVALID_SHIPMENT_ID",
                                 f"No shipment {identifier} to replace."))
            continue
        structure_errors = _asn_structure_errors(asn)
        if structure_errors:
            errors.extend(structure_errors)
            continue
        numbers = set()
        for item in asn["shippedItems"]:
            number = (item.get("itemDetails") or {}).get("purchaseOrderNumber")
            po = state.orders.get(number or "")
            if po is None or not _visible(po, grant):
                errors.append(_error("INVALID_ORDER_ID", f"Invalid order ID {number}."))
                continue
            if _find_line(po, item) is None:
                errors.append(_error("INVALID_ITEM", f"Purchase order {number} has no line "
                                     f"{item.get('itemSequenceNumber')}."))
                continue
            numbers.add(number)
        accepted.append((identifier, asn, numbers))

    def apply() -> None:
        for identifier, asn, numbers in accepted:
            with state.lock:
                state.shipment_confirmations[identifier] = asn
            if state.scenario.auto_receive:
                for number in numbers:
                    state.receive(order=state.orders[number],
                                  shortage_rate=state.scenario.shortage_rate)

    return _accepted(body, state, kind="shipmentConfirmation", errors=errors, apply=apply)


def submit_shipments(request: SandboxRequest, grant: Grant, state: SandboxState):
    body = request.json()
    errors = []
    for shipment in body.get("shipments", []):
        identifier = shipment["vendorShipmentIdentifier"]
        if shipment["transactionType"] == "Cancel" and identifier not in state.transport_requests:
            errors.append(_error("INVALID_SHIPMENT_ID", f"No shipment {identifier} to cancel."))

    def apply() -> None:
        with state.lock:
            for shipment in body.get("shipments", []):
                record = dict(shipment)
                record.setdefault("currentShipmentStatus", "TransportationRequested")
                record.setdefault("shipmentCreateDate", format_time(utc_now()))
                state.transport_requests[shipment["vendorShipmentIdentifier"]] = record

    return _accepted(body, state, kind="shipment", errors=errors, apply=apply)


def _offset_page(request: SandboxRequest, items: list, default_limit: int = 50):
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


def _asn_items(asn: dict) -> list[dict]:
    """shippedItems grouped by PO, as GetShipmentDetails' purchaseOrders."""
    by_po: dict[str, list[dict]] = {}
    for item in asn["shippedItems"]:
        number = (item.get("itemDetails") or {}).get("purchaseOrderNumber", "")
        entry = {"itemSequenceNumber": item["itemSequenceNumber"],
                 "shippedQuantity": item["shippedQuantity"]}
        if item.get("amazonProductIdentifier"):
            entry["buyerProductIdentifier"] = item["amazonProductIdentifier"]
        if item.get("vendorProductIdentifier"):
            entry["vendorProductIdentifier"] = item["vendorProductIdentifier"]
        by_po.setdefault(number, []).append(entry)
    return [{"purchaseOrderNumber": number, "items": items} if number else {"items": items}
            for number, items in by_po.items()]


def _asn_containers(asn: dict) -> list[dict]:
    containers = []
    for carton in asn.get("cartons") or []:
        container = {
            "containerType": "carton",
            "containerSequenceNumber": carton["cartonSequenceNumber"],
            "containerIdentifiers": carton.get("cartonIdentifiers") or [],
            "packedItems": [{"itemSequenceNumber": item["itemReference"],
                             "packedQuantity": item["shippedQuantity"]}
                            for item in carton.get("items") or []],
        }
        for name in ("trackingNumber", "weight", "dimensions"):
            if carton.get(name):
                container[name] = carton[name]
        containers.append(container)
    for sequence, pallet in enumerate(asn.get("pallets") or [], start=1):
        container = {"containerType": "pallet", "containerSequenceNumber": str(sequence),
                     "containerIdentifiers": pallet["palletIdentifiers"]}
        for name in ("tier", "block", "weight", "dimensions"):
            if pallet.get(name) is not None:
                container[name] = pallet[name]
        numbers = (pallet.get("cartonReferenceDetails") or {}).get("cartonReferenceNumbers")
        if numbers:
            container["innerContainersDetails"] = {
                "containerCount": len(numbers),
                "containerSequenceNumbers": [{"containerSequenceNumber": n} for n in numbers],
            }
        containers.append(container)
    return containers


def asn_shipment_json(asn: dict) -> dict:
    """An accepted ASN as GetShipmentDetails shows it: a shipped shipment."""
    confirmed = asn["shipmentConfirmationDate"]
    shipped = asn.get("shippedDate") or confirmed
    transport = asn.get("transportationDetails") or {}
    data = {
        "vendorShipmentIdentifier": asn["shipmentIdentifier"],
        "transactionType": "New",
        "transactionDate": confirmed,
        "currentShipmentStatus": "Shipped",
        "currentshipmentStatusDate": shipped,
        "shipmentStatusDetails": [{"shipmentStatus": "Shipped", "shipmentStatusDate": shipped}],
        "shipmentConfirmDate": shipped,
        "sellingParty": asn["sellingParty"],
        "shipFromParty": asn["shipFromParty"],
        "shipToParty": asn["shipToParty"],
        "purchaseOrders": _asn_items(asn),
        "containers": _asn_containers(asn),
    }
    measurements = asn.get("shipmentMeasurements") or {}
    totals = {}
    if asn.get("cartons"):
        totals["totalCartonCount"] = len(asn["cartons"])
    if measurements.get("grossShipmentWeight"):
        totals["shipmentWeight"] = measurements["grossShipmentWeight"]
    if measurements.get("shipmentVolume"):
        totals["shipmentVolume"] = measurements["shipmentVolume"]
    if totals:
        data["shipmentMeasurements"] = totals
    details = {"shippedDate": shipped}
    if asn.get("shipmentType"):
        details["shipMode"] = asn["shipmentType"]
    if transport.get("transportationMode"):
        details["transportationMode"] = transport["transportationMode"]
    if asn.get("estimatedDeliveryDate"):
        details["estimatedDeliveryDate"] = asn["estimatedDeliveryDate"]
    carrier = {key: transport[source] for key, source in
               (("code", "carrierScac"), ("shipmentReferenceNumber",
                                          "carrierShipmentReferenceNumber"))
               if transport.get(source)}
    if carrier:
        details["carrierDetails"] = carrier
    if transport.get("billOfLadingNumber"):
        details["billOfLadingNumber"] = transport["billOfLadingNumber"]
    data["transportationDetails"] = details
    return data


def get_shipment_details(request: SandboxRequest, grant: Grant, state: SandboxState):
    """Transport requests (SubmitShipments) and shipments known from
    accepted ASNs (SubmitShipmentConfirmations), by vendorShipmentIdentifier;
    a transport request that was then confirmed shows as Shipped."""
    with state.lock:
        known = dict(state.transport_requests)
        for identifier, asn in state.shipment_confirmations.items():
            shipped = asn_shipment_json(asn)
            request_record = known.get(identifier)
            if request_record is not None:
                shipped = {**request_record, **{key: shipped[key] for key in (
                    "currentShipmentStatus", "currentshipmentStatusDate",
                    "shipmentStatusDetails", "shipmentConfirmDate", "containers",
                    "transportationDetails")}}
            known[identifier] = shipped
    shipments = [s for s in known.values()
                 if s["sellingParty"]["partyId"] in grant.vendor_codes]
    for name, field in (("vendorShipmentIdentifier", "vendorShipmentIdentifier"),
                        ("buyerReferenceNumber", "buyerReferenceNumber"),
                        ("currentShipmentStatus", "currentShipmentStatus")):
        value = request.query_value(name)
        if value:
            shipments = [s for s in shipments if s.get(field) == value]
    if request.query_value("sellerWarehouseCode"):
        shipments = [s for s in shipments
                     if s["shipFromParty"]["partyId"] == request.query_value("sellerWarehouseCode")]
    if request.query_value("buyerWarehouseCode"):
        shipments = [s for s in shipments
                     if s["shipToParty"]["partyId"] == request.query_value("buyerWarehouseCode")]
    try:
        page, token = _offset_page(request, shipments)
    except BadRequest as error:
        return _bad(str(error))
    payload: dict = {"shipments": page}
    if token:
        payload["pagination"] = {"nextToken": token}
    return SandboxResponse(status=200, body={"payload": payload})


def get_shipment_labels(request: SandboxRequest, grant: Grant, state: SandboxState):
    labels = []
    for shipment in state.transport_requests.values():
        if shipment["sellingParty"]["partyId"] not in grant.vendor_codes:
            continue
        wanted = request.query_value("vendorShipmentIdentifier")
        if wanted and shipment["vendorShipmentIdentifier"] != wanted:
            continue
        tracking = "1Z" + hashlib.sha256(
            shipment["vendorShipmentIdentifier"].encode()).hexdigest()[:16].upper()
        labels.append({
            "labelCreateDateTime": shipment["shipmentCreateDate"],
            "shipmentInformation": {
                "vendorDetails": {"sellingParty": shipment["sellingParty"],
                                  "vendorShipmentIdentifier": shipment["vendorShipmentIdentifier"]},
                "shipToParty": shipment["shipToParty"],
                "shipFromParty": shipment["shipFromParty"],
                "masterTrackingId": tracking,
                "totalLabelCount": 1,
                "shipMode": "SmallParcel",
            },
            "labelData": [{"labelSequenceNumber": 1, "labelFormat": "PDF", "carrierCode": "UPSN",
                           "trackingId": tracking, "label": LABEL_PDF}],
        })
    try:
        page, token = _offset_page(request, labels)
    except BadRequest as error:
        return _bad(str(error))
    payload: dict = {"transportLabels": page}
    if token:
        payload["pagination"] = {"nextToken": token}
    return SandboxResponse(status=200, body={"payload": payload})


def _amount(money: dict | None) -> Decimal:
    return _decimal((money or {}).get("amount")) or Decimal("0")


def _tax_total(details: list | None) -> Decimal:
    return sum((_amount(tax.get("taxAmount")) for tax in details or []), Decimal("0"))


def submit_invoices(request: SandboxRequest, grant: Grant, state: SandboxState):
    body = request.json()
    errors: list[dict] = []
    accepted = []
    for invoice in body.get("invoices", []):
        invoice_id = invoice["id"]
        if invoice_id in state.invoices:
            errors.append(
                _error("DUPLICATE_INVOICE", f"Invoice {invoice_id} was already submitted.")
            )
            continue
        computed = Decimal("0")
        for item in invoice.get("items") or []:
            number = item.get("purchaseOrderNumber")
            if invoice["invoiceType"] == "Invoice":
                po = state.orders.get(number or "")
                if po is None or not _visible(po, grant):
                    errors.append(_error("INVALID_ORDER_ID", f"Invalid order ID {number}."))
                    continue
                line = _find_line(po, {**item, "itemSequenceNumber": None}) or po.line(
                    str(item["itemSequenceNumber"]))
                if line is None:
                    errors.append(_error("INVALID_ITEM", f"Purchase order {number} has no line "
                                         f"{item['itemSequenceNumber']}."))
                    continue
                if _amount(item["netCost"]) != line.net_cost:
                    errors.append(_error(
                        "NET_COST_MISMATCH",
                        f"Net cost {_amount(item['netCost'])} on invoice {invoice_id} differs "
                        f"from the purchase order cost {line.net_cost}.",
                    ))
            computed += _amount(item["netCost"]) * item["invoicedQuantity"]["amount"]
            computed += _tax_total(item.get("taxDetails"))
        computed += _tax_total(invoice.get("taxDetails"))
        computed += sum((_amount(c["chargeAmount"]) for c in invoice.get("chargeDetails") or []),
                        Decimal("0"))
        computed -= sum((_amount(a["allowanceAmount"]) for a in invoice.get("allowanceDetails")
                         or []), Decimal("0"))
        total = _amount(invoice["invoiceTotal"])
        if invoice.get("items") and computed.quantize(Decimal("0.01")) != total.quantize(
                Decimal("0.01")):
            errors.append(_error(
                "INVOICE_TOTAL_MISMATCH",
                f"Invoice {invoice_id} total {total} is inconsistent with its lines, taxes, "
                f"charges and allowances ({computed}).",
            ))
            continue
        accepted.append(invoice)

    def apply() -> None:
        with state.lock:
            for invoice in accepted:
                state.invoices[invoice["id"]] = invoice

    return _accepted(body, state, kind="invoice", errors=errors, apply=apply)


def get_transaction(request: SandboxRequest, grant: Grant, state: SandboxState):
    transaction = state.transaction_status(request.path_params["transactionId"])
    if transaction is None:
        return error_response(404, "NotFound", "The transaction was not found.")
    status: dict = {"transactionId": transaction.transaction_id, "status": transaction.status}
    if transaction.status == "Failure":
        status["errors"] = transaction.errors
    return SandboxResponse(status=200, body={"payload": {"transactionStatus": status}})


def create_report(request: SandboxRequest, grant: Grant, state: SandboxState):
    body = request.json()
    if body["reportType"] not in conformance.REPORT_DOCUMENT_MODEL_FILES:
        return _bad(f"Report type {body['reportType']} is not available in the sandbox.")
    report = report_documents.create(state=state, grant=grant, specification=body)
    return SandboxResponse(status=202, body={"reportId": report["reportId"]})


def get_report(request: SandboxRequest, grant: Grant, state: SandboxState):
    report = report_documents.current(state=state, report_id=request.path_params["reportId"])
    if report is None:
        return error_response(404, "NotFound", "The report was not found.")
    return SandboxResponse(status=200, body=report)


def get_report_document(request: SandboxRequest, grant: Grant, state: SandboxState):
    document_id = request.path_params["reportDocumentId"]
    if document_id not in state.documents:
        return error_response(404, "NotFound", "The report document was not found.")
    return SandboxResponse(status=200, body={
        "reportDocumentId": document_id,
        "url": f"{request.base_url}/_sandbox/documents/{document_id}",
        "compressionAlgorithm": "GZIP",
    })


def download_document(request: SandboxRequest) -> SandboxResponse:
    """The presigned document URL: no token, like S3."""
    content = request.router.state.documents.get(request.path_params["documentId"])
    if content is None:
        return error_response(404, "NotFound", "No such document.")
    return SandboxResponse(status=200, body=content, content_type="application/octet-stream")


OPERATIONS: dict[str, OperationHandler] = {
    "getPurchaseOrders": get_purchase_orders,
    "getPurchaseOrder": get_purchase_order,
    "submitAcknowledgement": submit_acknowledgement,
    "getPurchaseOrdersStatus": get_purchase_orders_status,
    "SubmitShipmentConfirmations": submit_shipment_confirmations,
    "SubmitShipments": submit_shipments,
    "GetShipmentDetails": get_shipment_details,
    "GetShipmentLabels": get_shipment_labels,
    "submitInvoices": submit_invoices,
    "getTransaction": get_transaction,
    "createReport": create_report,
    "getReport": get_report,
    "getReportDocument": get_report_document,
}


def register(router: Router) -> None:
    """Serve each operation at its real path, taken from the models."""
    for operation_id, handler in OPERATIONS.items():
        model = conformance.operation_model(operation_id)
        router.add(model.method, model.path, _operation(operation_id, handler))
    router.add("GET", "/_sandbox/documents/{documentId}", download_document)
