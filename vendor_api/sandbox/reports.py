"""Vendor report documents computed from the sandbox's POs, gzip-compressed.

Figures are consistent with the POs the same grant can read: sales and
received units come from receipts, open PO units from open lines, the
forecast from recent ordered units. Report documents use JSON numbers
(Amazon's format), hence the float conversion at the edge.
"""

from __future__ import annotations

import datetime
import gzip
import json
import random
import time
import uuid
from collections import defaultdict
from decimal import Decimal

from vendor_api.sandbox.state import Grant, SandboxState, format_time, utc_now


def _number(value: Decimal) -> float:
    return float(value.quantize(Decimal("0.01")))


def _orders_for(state: SandboxState, grant: Grant):
    return [po for po in state.orders.values() if po.vendor_code in grant.vendor_codes]


def _catalog(state: SandboxState, grant: Grant):
    items = {}
    for code in grant.vendor_codes:
        vendor = state.vendors.get(code)
        for item in vendor.catalog if vendor else []:
            items[item.asin] = item
    return items


def _dates(spec: dict) -> tuple[datetime.datetime, datetime.datetime]:
    end = spec.get("dataEndTime")
    start = spec.get("dataStartTime")
    end_time = datetime.datetime.fromisoformat(end.replace("Z", "+00:00")) if end else utc_now()
    start_time = (datetime.datetime.fromisoformat(start.replace("Z", "+00:00")) if start
                  else end_time - datetime.timedelta(days=7))
    return start_time, end_time


def build_document(*, state: SandboxState, grant: Grant, spec: dict) -> dict:
    report_type = spec["reportType"]
    options = spec.get("reportOptions") or {}
    start, end = _dates(spec)
    catalog = _catalog(state, grant)
    orders = _orders_for(state, grant)
    rng = random.Random(f"{state.seed}:{report_type}")
    currency = next(iter(state.vendors.values())).currency_code if state.vendors else "USD"
    marketplaces = spec["marketplaceIds"]
    today = utc_now().date().isoformat()
    if report_type == "GET_VENDOR_FORECASTING_REPORT":
        ordered = defaultdict(int)
        for po in orders:
            for line in po.lines:
                ordered[line.asin] += line.open_quantity
        rows = []
        for asin in sorted(catalog):
            weekly = max(1.0, ordered[asin] / 4.3)
            for week in range(4):
                week_start = utc_now().date() + datetime.timedelta(days=7 * week)
                rows.append({
                    "forecastGenerationDate": today, "asin": asin,
                    "startDate": week_start.isoformat(),
                    "endDate": (week_start + datetime.timedelta(days=6)).isoformat(),
                    "meanForecastUnits": round(weekly, 1),
                    "p70ForecastUnits": round(weekly * 1.1, 1),
                    "p80ForecastUnits": round(weekly * 1.2, 1),
                    "p90ForecastUnits": round(weekly * 1.35, 1),
                })
        return {
            "reportSpecification": {
                "reportType": report_type,
                "reportOptions": {"sellingProgram": options.get("sellingProgram", "RETAIL")},
                "lastUpdatedDate": today, "marketplaceIds": marketplaces,
            },
            "forecastByAsin": rows,
        }
    if report_type in ("GET_VENDOR_SALES_REPORT", "GET_VENDOR_INVENTORY_REPORT"):
        per_asin = defaultdict(lambda: defaultdict(Decimal))
        for po in orders:
            for line in po.lines:
                figures = per_asin[line.asin]
                figures["ordered"] += line.open_quantity
                figures["accepted"] += line.accepted
                if line.last_receive_date and start <= line.last_receive_date < end:
                    figures["received"] += line.received
                    figures["received_cost"] += line.received * line.net_cost
                    figures["received_revenue"] += line.received * line.list_price
                if po.state != "Closed":
                    figures["open_units"] += line.accepted or line.open_quantity
        specification = {
            "reportType": report_type,
            "reportOptions": {
                "distributorView": options.get("distributorView", "MANUFACTURING"),
                "reportPeriod": options.get("reportPeriod", "WEEK"),
                "sellingProgram": options.get("sellingProgram", "RETAIL"),
            },
            "lastUpdatedDate": today,
            "dataStartTime": start.date().isoformat(),
            "dataEndTime": end.date().isoformat(),
            "marketplaceIds": marketplaces,
        }
        period = {"startDate": start.date().isoformat(), "endDate": end.date().isoformat()}

        def amount(value: Decimal) -> dict:
            return {"amount": _number(value), "currencyCode": currency}

        if report_type == "GET_VENDOR_SALES_REPORT":
            rows = []
            for asin in sorted(per_asin):
                f = per_asin[asin]
                rows.append({**period, "asin": asin, "customerReturns": int(f["received"] // 50),
                             "orderedRevenue": amount(f["received_revenue"]),
                             "orderedUnits": int(f["received"]),
                             "shippedCogs": amount(f["received_cost"]),
                             "shippedRevenue": amount(f["received_revenue"]),
                             "shippedUnits": int(f["received"])})
            total = {key: sum((per_asin[a][key] for a in per_asin), Decimal("0"))
                     for key in ("received", "received_cost", "received_revenue")}
            aggregate = {**period, "customerReturns": int(total["received"] // 50),
                         "orderedRevenue": amount(total["received_revenue"]),
                         "orderedUnits": int(total["received"]),
                         "shippedCogs": amount(total["received_cost"]),
                         "shippedRevenue": amount(total["received_revenue"]),
                         "shippedUnits": int(total["received"])}
            return {"reportSpecification": specification, "salesAggregate": [aggregate],
                    "salesByAsin": rows}
        rows = []
        for asin in sorted(per_asin):
            f = per_asin[asin]
            on_hand = rng.randint(0, 500)
            cost = catalog[asin].net_cost if asin in catalog else Decimal("0")
            rows.append({
                **period, "asin": asin,
                "vendorConfirmationRate": round(float(f["accepted"] / f["ordered"]), 4)
                if f["ordered"] else 0.0,
                "netReceivedInventoryCost": amount(f["received_cost"]),
                "netReceivedInventoryUnits": int(f["received"]),
                "openPurchaseOrderUnits": int(f["open_units"]),
                "averageVendorLeadTimeDays": round(rng.uniform(3, 12), 1),
                "sellableOnHandInventoryCost": amount(cost * on_hand),
                "sellableOnHandInventoryUnits": on_hand,
            })
        accepted = sum((per_asin[a]["accepted"] for a in per_asin), Decimal("0"))
        ordered_total = sum((per_asin[a]["ordered"] for a in per_asin), Decimal("0"))
        received = sum((per_asin[a]["received"] for a in per_asin), Decimal("0"))
        aggregate = {
            **period,
            "receiveFillRate": round(float(received / accepted), 4) if accepted else 0.0,
            "vendorConfirmationRate": round(float(accepted / ordered_total), 4)
            if ordered_total else 0.0,
            "netReceivedInventoryCost": amount(sum(
                (per_asin[a]["received_cost"] for a in per_asin), Decimal("0"))),
            "netReceivedInventoryUnits": int(received),
            "openPurchaseOrderUnits": int(sum(
                (per_asin[a]["open_units"] for a in per_asin), Decimal("0"))),
            "sellableOnHandInventoryCost": amount(Decimal("0") + sum(
                (Decimal(str(r["sellableOnHandInventoryCost"]["amount"])) for r in rows),
                Decimal("0"))),
            "sellableOnHandInventoryUnits": sum(r["sellableOnHandInventoryUnits"] for r in rows),
        }
        return {"reportSpecification": specification, "inventoryAggregate": [aggregate],
                "inventoryByAsin": rows}
    # Real-time reports: hourly rows, at most 24 hours.
    end = min(end, start + datetime.timedelta(hours=24))
    hours = []
    cursor = start.replace(minute=0, second=0, microsecond=0)
    while cursor < end:
        hours.append(cursor)
        cursor += datetime.timedelta(hours=1)
    rows = []
    for hour in hours:
        for asin in sorted(catalog)[:10]:
            row = {"startTime": format_time(hour),
                   "endTime": format_time(hour + datetime.timedelta(hours=1)), "asin": asin}
            if report_type == "GET_VENDOR_REAL_TIME_SALES_REPORT":
                units = rng.randint(-1, 6)
                row.update(orderedUnits=units,
                           orderedRevenue=_number(catalog[asin].list_price * units))
            elif report_type == "GET_VENDOR_REAL_TIME_INVENTORY_REPORT":
                row["highlyAvailableInventory"] = rng.randint(0, 300)
            else:
                row["glanceViews"] = rng.randint(0, 400)
            rows.append(row)
    specification = {"reportType": report_type, "dataStartTime": format_time(start),
                     "dataEndTime": format_time(end), "marketplaceIds": marketplaces}
    if report_type == "GET_VENDOR_REAL_TIME_SALES_REPORT":
        specification["reportOptions"] = {"currencyCode": options.get("currencyCode", currency)}
    return {"reportSpecification": specification, "reportData": rows}


def create(*, state: SandboxState, grant: Grant, specification: dict) -> dict:
    with state.lock:
        report_id = str(uuid.UUID(int=state.rng.getrandbits(128)))
        report = {
            "reportId": report_id,
            "reportType": specification["reportType"],
            "marketplaceIds": specification["marketplaceIds"],
            "createdTime": format_time(utc_now()),
            "processingStatus": "IN_QUEUE",
            "_ready_at": time.time() + state.scenario.report_processing_seconds,
            "_grant": grant,
            "_specification": specification,
        }
        for key in ("dataStartTime", "dataEndTime"):
            if specification.get(key):
                report[key] = specification[key]
        state.reports[report_id] = report
        return report


def current(*, state: SandboxState, report_id: str) -> dict | None:
    with state.lock:
        report = state.reports.get(report_id)
        if report is None:
            return None
        if report["processingStatus"] == "IN_QUEUE" and time.time() >= report["_ready_at"]:
            document = build_document(state=state, grant=report["_grant"],
                                      spec=report["_specification"])
            document_id = f"amzn1.spdoc.1.4.na.{report_id}"
            state.documents[document_id] = gzip.compress(json.dumps(document).encode(), mtime=0)
            report.update(processingStatus="DONE", reportDocumentId=document_id,
                          processingStartTime=report["createdTime"],
                          processingEndTime=format_time(utc_now()))
        return {key: value for key, value in report.items() if not key.startswith("_")}
