"""Vendor reports over the real sandbox: createReport -> getReport polls
-> the document lands in inventory (forecast weeks, demand history), once;
a report Amazon ends FATAL or CANCELLED is a failed sync run."""

import datetime

import pytest
from django.utils import timezone

from channels.models import SyncKind, SyncRun, SyncStatus
from channels.services.reports import (
    AMAZON_CHANNEL,
    _last_full_week,
    vendor_report_collect,
    vendor_report_request,
)
from channels.tests.services.test_acknowledgement_flow import stock_catalog
from inventory.models import AmazonForecast, DemandEvent
from vendor_api.operations.reports import VendorReportType

FORECAST = VendorReportType.FORECASTING
SALES = VendorReportType.SALES


def _request_and_collect(tenant, account, sandbox, report_type, fast_retries):
    """Request a report Amazon needs time for; poll once early, then when done."""
    sandbox.control("POST", "/_sandbox/scenario", {"report_processing_seconds": 3600})
    run = vendor_report_request(tenant=tenant, account=account, report_type=report_type,
                                **fast_retries)
    assert run.status == SyncStatus.RUNNING and run.counts["report_id"]
    run = vendor_report_collect(tenant=tenant, run=run, **fast_retries)
    assert (run.status, run.counts["polls"]) == (SyncStatus.RUNNING, 1)
    sandbox.state.reports[run.counts["report_id"]]["_ready_at"] = 0
    return vendor_report_collect(tenant=tenant, run=run, **fast_retries)


def test_forecast_report_becomes_inventory_forecasts_once(scope, sandbox, sandbox_account,
                                                          fast_retries):
    """Every catalog ASIN's forecast weeks are stored; collecting a second
    report of the same weeks replaces them, adding nothing."""
    # Given a mapped catalog at Amazon
    stock_catalog(scope, sandbox_account, sandbox, on_hand=0)
    asins = {item.asin for item in sandbox.state.vendors["DEMO1"].catalog}
    # When a forecast report is requested, polled and collected
    run = _request_and_collect(scope, sandbox_account, sandbox, FORECAST, fast_retries)
    # Then the run succeeded and inventory holds four weeks per ASIN
    assert run.status == SyncStatus.SUCCEEDED
    assert run.kind == SyncKind.FORECAST_REPORT
    assert run.counts["polls"] == 2
    assert run.counts["forecast_rows"] == 4 * len(asins)
    forecasts = AmazonForecast.objects.filter(tenant=scope)
    assert set(forecasts.values_list("asin", flat=True)) == asins
    assert forecasts.count() == 4 * len(asins)
    assert all(f.p70 <= f.p80 <= f.p90 for f in forecasts)
    # When the finished run is collected again, or tomorrow's report arrives
    assert vendor_report_collect(tenant=scope, run=run, **fast_retries).counts == run.counts
    again = _request_and_collect(scope, sandbox_account, sandbox, FORECAST, fast_retries)
    # Then nothing is duplicated
    assert again.status == SyncStatus.SUCCEEDED
    assert AmazonForecast.objects.filter(tenant=scope).count() == 4 * len(asins)


def test_sales_report_becomes_demand_history_once(scope, sandbox, sandbox_account,
                                                  fast_retries):
    """Units Amazon shipped last week become demand per mapped product, in
    the product's units, idempotent per (account, ASIN, week)."""
    # Given two POs Amazon received during the last full week
    sandbox.state.generate(vendor_code="DEMO1", count=2, days=1)
    _warehouse, products = stock_catalog(scope, sandbox_account, sandbox, on_hand=0)
    week_start, _week_end = _last_full_week(timezone.now().date())
    shipped: dict[str, int] = {}
    for order in list(sandbox.state.orders.values()):
        sandbox.state.receive(order=order)
        for line in order.lines:
            line.last_receive_date = week_start + datetime.timedelta(days=2)
            shipped[line.asin] = shipped.get(line.asin, 0) + line.received
    shipped = {asin: units for asin, units in shipped.items() if units}
    assert shipped
    # When the sales report is requested, polled and collected
    run = _request_and_collect(scope, sandbox_account, sandbox, SALES, fast_retries)
    # Then each ASIN's shipped units are demand of its product on the week's end
    assert run.status == SyncStatus.SUCCEEDED
    assert run.kind == SyncKind.SALES_REPORT
    assert run.counts["sales_rows_recorded"] == len(shipped)
    events = DemandEvent.objects.filter(tenant=scope, channel=AMAZON_CHANNEL)
    assert {(e.product_id, e.quantity) for e in events} == {
        (products[asin].pk, units) for asin, units in shipped.items()}
    assert {e.occurred_on for e in events} == {run.window_end.date()}
    # When the same week is reported and collected again
    again = _request_and_collect(scope, sandbox_account, sandbox, SALES, fast_retries)
    # Then the demand history is unchanged
    assert again.status == SyncStatus.SUCCEEDED
    assert DemandEvent.objects.filter(tenant=scope).count() == len(shipped)


@pytest.mark.parametrize("ending", ["FATAL", "CANCELLED"])
def test_report_ending_fatal_or_cancelled_is_a_failed_run(scope, sandbox, sandbox_account,
                                                          fast_retries, ending):
    """Amazon gave up on the report: the run fails with the reason; nothing
    reaches inventory."""
    # Given a requested report that Amazon then ends without a document
    sandbox.control("POST", "/_sandbox/scenario", {"report_processing_seconds": 3600})
    run = vendor_report_request(tenant=scope, account=sandbox_account, report_type=FORECAST,
                                **fast_retries)
    sandbox.state.reports[run.counts["report_id"]]["processingStatus"] = ending
    # When it is collected
    run = vendor_report_collect(tenant=scope, run=run, **fast_retries)
    # Then the run failed, saying how the report ended
    run.refresh_from_db()
    assert run.status == SyncStatus.FAILED
    assert run.finished_at is not None
    assert run.error_message == f"The report ended {ending}."
    assert run.counts["polls"] == 1
    assert not AmazonForecast.objects.filter(tenant=scope).exists()
    assert SyncRun.objects.filter(kind=SyncKind.FORECAST_REPORT,
                                  status=SyncStatus.FAILED).count() == 1
