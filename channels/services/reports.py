"""Amazon vendor reports: forecasts and sales into inventory.

Two steps, so no worker sleeps while Amazon builds a report:
``vendor_report_request`` calls createReport and records a RUNNING
SyncRun holding the report id; ``vendor_report_collect`` polls getReport
and, once DONE, downloads the document and stores it through inventory's
services (``forecast_import`` for GET_VENDOR_FORECASTING_REPORT,
``demand_record`` per ASIN for GET_VENDOR_SALES_REPORT).
"""

from __future__ import annotations

import datetime
from decimal import Decimal

from django.utils import timezone

from channels.models import SyncKind, SyncRun, SyncStatus
from channels.services.clients import account_client_build
from channels.services.purchase_orders import mapping_index_load
from channels.services.runs import sync_run_fail, sync_run_finish, sync_run_start
from inventory.services import demand_record, forecast_import
from vendor_api.errors import SpApiError, UnexpectedResponse
from vendor_api.operations.reports import ProcessingStatus, VendorReportType

AMAZON_CHANNEL = "amazon_vendor"
REPORT_KINDS = {
    VendorReportType.FORECASTING: SyncKind.FORECAST_REPORT,
    VendorReportType.SALES: SyncKind.SALES_REPORT,
}
# Vendor reports need their options or they end FATAL (spapi-vendor.md §8.2).
REPORT_OPTIONS = {
    VendorReportType.FORECASTING: {"sellingProgram": "RETAIL"},
    VendorReportType.SALES: {
        "reportPeriod": "WEEK", "distributorView": "MANUFACTURING", "sellingProgram": "RETAIL",
    },
}


def _last_full_week(today: datetime.date) -> tuple[datetime.datetime, datetime.datetime]:
    """Sunday..Saturday of the last complete week (WEEK periods must align)."""
    days_since_sunday = (today.weekday() + 1) % 7
    end = today - datetime.timedelta(days=days_since_sunday + 1)  # last Saturday
    start = end - datetime.timedelta(days=6)
    return (
        datetime.datetime.combine(start, datetime.time.min, tzinfo=datetime.UTC),
        datetime.datetime.combine(end, datetime.time(23, 59, 59), tzinfo=datetime.UTC),
    )


def vendor_report_request(*, tenant, account, report_type: str, **client_options) -> SyncRun:
    """createReport; the returned RUNNING run carries the report id."""

    report_type = VendorReportType(report_type)
    kind = REPORT_KINDS[report_type]
    start = end = None
    if report_type == VendorReportType.SALES:
        start, end = _last_full_week(timezone.now().date())
    run = sync_run_start(tenant=tenant, account=account, kind=kind, window_start=start,
                         window_end=end)
    try:
        with account_client_build(account=account, **client_options) as client:
            report_id = client.create_report(
                report_type=report_type, marketplace_ids=[account.marketplace_id],
                data_start_time=start, data_end_time=end,
                report_options=REPORT_OPTIONS[report_type],
            )
    except SpApiError as error:
        return sync_run_fail(tenant=tenant, run=run, error=error)
    run.counts = {"report_id": report_id, "report_type": str(report_type), "polls": 0}
    run.save(update_fields=["counts", "updated_at"])
    return run


def vendor_report_collect(*, tenant, run: SyncRun, **client_options) -> SyncRun:
    """Poll the run's report; store the document when DONE.

    Returns the run: still RUNNING while Amazon works (the caller polls
    again later), SUCCEEDED with counts, or FAILED.
    """

    if run.status != SyncStatus.RUNNING:
        return run
    account = run.account
    counts = dict(run.counts)
    try:
        with account_client_build(account=account, **client_options) as client:
            report = client.get_report(report_id=counts["report_id"])
            counts["polls"] = counts.get("polls", 0) + 1
            if not report.finished:
                run.counts = counts
                run.save(update_fields=["counts", "updated_at"])
                return run
            if report.processing_status != ProcessingStatus.DONE:
                raise UnexpectedResponse(
                    f"The report ended {report.processing_status}.", operation="getReport"
                )
            document = client.fetch_report_document(
                report_document_id=report.report_document_id
            )
    except SpApiError as error:
        return sync_run_fail(tenant=tenant, run=run, error=error, counts=counts)
    if counts["report_type"] == VendorReportType.FORECASTING:
        counts.update(_forecast_store(tenant=tenant, account=account, document=document))
    else:
        counts.update(_sales_store(tenant=tenant, account=account, document=document))
    return sync_run_finish(tenant=tenant, run=run, counts=counts)


def _forecast_store(*, tenant, account, document: dict) -> dict:

    # Keep the newest generation per (ASIN, week).
    rows: dict[tuple[str, str], dict] = {}
    for row in document.get("forecastByAsin") or []:
        key = (row.get("asin", ""), row.get("startDate", ""))
        current = rows.get(key)
        if current is None or row.get("forecastGenerationDate", "") >= current["generated"]:
            rows[key] = {
                "generated": row.get("forecastGenerationDate", ""),
                "asin": row.get("asin", ""),
                "week_start": row.get("startDate", ""),
                "mean": str(row.get("meanForecastUnits", "")),
                "p70": str(row.get("p70ForecastUnits", "")),
                "p80": str(row.get("p80ForecastUnits", "")),
                "p90": str(row.get("p90ForecastUnits", "")),
            }
    result = forecast_import(
        tenant=tenant, rows=list(rows.values()),
        source=f"{VendorReportType.FORECASTING} {account.name}",
    )
    if result.has_errors:
        errors = [f"line {r.line}: {r.errors}" for r in result.rows if r.errors][:20]
        raise_for = UnexpectedResponse("The forecast report has rows inventory refused: "
                                       + "; ".join(errors), operation="getReportDocument")
        raise raise_for
    return {"forecast_rows": len(rows)}


def _sales_store(*, tenant, account, document: dict) -> dict:

    mappings = mapping_index_load(tenant=tenant, account=account)
    recorded = unmapped = 0
    for row in document.get("salesByAsin") or []:
        units = int(Decimal(str(row.get("shippedUnits") or 0)))
        mapped = mappings.resolve(asin=row.get("asin", ""), vendor_product_id="")
        if mapped is None:
            unmapped += 1
            continue
        if units == 0:
            continue
        end = datetime.date.fromisoformat(row["endDate"][:10])
        demand_record(
            tenant=tenant, product=mapped[0], channel=AMAZON_CHANNEL,
            quantity=units * mapped[1], occurred_on=end,
            idempotency_key=f"amazon-sales:{account.pk}:{row['asin']}:{row['startDate']}:"
            f"{row['endDate']}",
            source_type="amazon_sales_report", source_ref=row["asin"],
        )
        recorded += 1
    return {"sales_rows_recorded": recorded, "sales_rows_unmapped": unmapped}
