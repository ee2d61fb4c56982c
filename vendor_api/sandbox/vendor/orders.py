"""Sandbox Vendor Orders: getPurchaseOrders, getPurchaseOrder,
submitAcknowledgement, getPurchaseOrdersStatus (mirrors operations/orders.py)."""

from __future__ import annotations

import base64
import bisect
import datetime
import hashlib
import json

from vendor_api.sandbox.generator import SandboxPurchaseOrder
from vendor_api.sandbox.server import SandboxRequest, SandboxResponse, error_response
from vendor_api.sandbox.state import Grant, SandboxState, format_time, utc_now
from vendor_api.sandbox.vendor.common import (
    BadRequest,
    bad_request,
    business_error,
    decimal_or_none,
    eaches,
    encode,
    find_line,
    money,
    too_long,
    transaction_accepted,
    visible,
    window,
)


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
        cached = _ORDER_JSON_CACHE[version] = (value, encode(value))
    return cached


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
                "netCost": money(line.net_cost, po.currency_code),
                "listPrice": money(line.list_price, po.currency_code),
            }
            for line in po.lines
        ],
    }
    if po.changed:
        details["purchaseOrderChangedDate"] = format_time(po.changed)
    data["orderDetails"] = details
    return data


def get_purchase_orders(request: SandboxRequest, grant: Grant, state: SandboxState):
    created = window(request, after_name="createdAfter", before_name="createdBefore",
                      default_to_now=False)
    changed = window(request, after_name="changedAfter", before_name="changedBefore",
                      default_to_now=False)
    if created is None and changed is None:
        created = window(request, after_name="createdAfter", before_name="createdBefore",
                          default_to_now=True)
    if too_long(created) or too_long(changed):
        return bad_request("The date range must not exceed 7 days.")
    vendor_code = request.query_value("orderingVendorCode")
    wanted_state = request.query_value("purchaseOrderState")
    only_changed = request.query_value("isPOChanged") == "true"
    only_cancelled = request.query_value("poItemState") == "Cancelled"

    def wanted(po: SandboxPurchaseOrder) -> bool:
        return (visible(po, grant)
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
            return bad_request(str(error))
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
        return bad_request(str(error))
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
            raw += b',"pagination":{"nextToken":' + encode(next_token) + b"}"
        raw += b"}}"
    return SandboxResponse(status=200, body={"payload": payload}, raw=raw)


def get_purchase_order(request: SandboxRequest, grant: Grant, state: SandboxState):
    po = state.orders.get(request.path_params["purchaseOrderNumber"])
    if po is None or not visible(po, grant):
        return error_response(404, "NotFound", "The purchase order was not found.")
    return SandboxResponse(status=200, body={"payload": order_json(po)})


def submit_acknowledgement(request: SandboxRequest, grant: Grant, state: SandboxState):
    body = request.json()
    errors: list[dict] = []
    changes = []
    for ack in body.get("acknowledgements", []):
        number = ack["purchaseOrderNumber"]
        po = state.orders.get(number)
        seller = ack["sellingParty"]["partyId"]
        if po is None or not visible(po, grant) or po.vendor_code != seller:
            errors.append(business_error("INVALID_ORDER_ID", f"Invalid order ID {number}."))
            continue
        if po.state == "Closed":
            errors.append(business_error(
                "PO_CLOSED", f"Purchase order {number} is closed and cannot be acknowledged."))
            continue
        line_results = []
        for item in ack["items"]:
            line = find_line(po, item)
            if line is None:
                wanted = (item.get("itemSequenceNumber") or item.get("amazonProductIdentifier")
                          or item.get("vendorProductIdentifier"))
                errors.append(business_error(
                    "INVALID_ITEM", f"Purchase order {number} has no line matching {wanted}."))
                continue
            cost = decimal_or_none((item.get("netCost") or {}).get("amount"))
            if cost is not None and cost != line.net_cost:
                errors.append(business_error(
                    "NET_COST_MISMATCH",
                    f"Net cost {cost} for line {line.sequence} of {number} differs from the "
                    f"purchase order cost {line.net_cost}.",
                ))
                continue
            amounts = [(a.get("acknowledgedQuantity") or {}).get("amount")
                       for a in item["itemAcknowledgements"]]
            if None in amounts:
                # The model leaves ItemQuantity.amount optional; an
                # acknowledgement without one says nothing: refused.
                errors.append(business_error(
                    "INVALID_QUANTITY",
                    f"An acknowledgement of line {line.sequence} of {number} has no "
                    "acknowledged amount.",
                ))
                continue
            total = sum(amounts)
            if total > line.open_quantity:
                errors.append(business_error(
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

    return transaction_accepted(body, state, kind="acknowledgement", errors=errors, apply=apply)


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
                     "receivedQuantity": eaches(line.received)}
        if line.last_receive_date:
            receiving["lastReceiveDate"] = format_time(line.last_receive_date)
        items.append({
            "itemSequenceNumber": line.sequence,
            "buyerProductIdentifier": line.asin,
            "vendorProductIdentifier": line.vendor_sku,
            "netCost": money(line.net_cost, po.currency_code),
            "listPrice": money(line.list_price, po.currency_code),
            "orderedQuantity": {
                "orderedQuantity": eaches(line.open_quantity),
                "orderedQuantityDetails": [
                    {"updatedDate": format_time(change["at"]),
                     "orderedQuantity": eaches(change["ordered"] - change["cancelled"]),
                     "cancelledQuantity": eaches(change["cancelled"])}
                    for change in line.quantity_changes
                ],
            },
            "acknowledgementStatus": {
                "confirmationStatus": _confirmation_status(line),
                "acceptedQuantity": eaches(line.accepted),
                "rejectedQuantity": eaches(line.rejected),
                "acknowledgementStatusDetails": [
                    {"acknowledgementDate": ack["at"],
                     "acceptedQuantity": eaches(ack["accepted"]),
                     "rejectedQuantity": eaches(ack["rejected"])}
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
    created = window(request, after_name="createdAfter", before_name="createdBefore",
                      default_to_now=False)
    updated = window(request, after_name="updatedAfter", before_name="updatedBefore",
                      default_to_now=False)
    if too_long(created) or too_long(updated):
        return bad_request("The date range must not exceed 7 days.")
    if number:
        orders = [state.orders[number]] if number in state.orders else []
    elif created is not None or updated is None:
        created = created or window(request, after_name="createdAfter",
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
    orders = [po for po in orders if visible(po, grant)]
    try:
        page, next_token = _paginate(request, orders)
    except BadRequest as error:
        return bad_request(str(error))
    payload: dict = {"ordersStatus": [order_status_json(po) for po in page]}
    if next_token:
        payload["pagination"] = {"nextToken": next_token}
    return SandboxResponse(status=200, body={"payload": payload})
