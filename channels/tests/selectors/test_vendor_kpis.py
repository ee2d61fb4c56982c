"""Vendor KPIs by business period in the tenant's timezone: periods begin
at local midnight, so a PO near midnight UTC can fall on another day."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from acorn.tenancy import tenant_scope
from channels.models import AckStatus, PurchaseOrderEvent, PurchaseOrderEventKind
from channels.selectors.kpis import kpi_periods, vendor_kpis, vendor_kpis_by_period
from channels.tests.factories import (
    AmazonVendorAccountFactory,
    PurchaseOrderFactory,
    PurchaseOrderLineFactory,
)

UTC = datetime.UTC


def _at(text):
    return datetime.datetime.fromisoformat(text).replace(tzinfo=UTC)


@pytest.fixture
def shanghai(tenant_a):
    tenant_a.timezone = "Asia/Shanghai"
    tenant_a.save(update_fields=["timezone"])
    with tenant_scope(tenant_a):
        account = AmazonVendorAccountFactory(tenant=tenant_a)

        def po(ordered_at, *, units, deadline=None, sent=None):
            order = PurchaseOrderFactory(
                tenant=tenant_a, account=account, ordered_at=_at(ordered_at),
                ack_deadline_at=_at(deadline or ordered_at) + datetime.timedelta(minutes=15),
                ack_status=AckStatus.ACCEPTED)
            PurchaseOrderLineFactory(tenant=tenant_a, purchase_order=order,
                                     ordered_quantity=units, planned_accept=units)
            if sent:
                PurchaseOrderEvent.objects.create(
                    tenant=tenant_a, purchase_order=order, kind=PurchaseOrderEventKind.ACK_SENT,
                    dedupe_key="ack_sent:v1", occurred_at=_at(sent))
            return order

        # 15:30 UTC = 23:30 in Shanghai, still 9 March there
        po("2026-03-09T15:30:00", units=3)
        # 23:30 UTC on 9 March = 07:30 on 10 March in Shanghai
        po("2026-03-09T23:30:00", units=5, sent="2026-03-09T23:45:00")
        # 17:00 UTC on 28 February = 01:00 on 1 March in Shanghai
        po("2026-02-28T17:00:00", units=7)
    return tenant_a


def _units(rows):
    return [(row.period_start.astimezone(datetime.timezone(datetime.timedelta(hours=8)))
             .date().isoformat(), row.units_ordered) for row in rows]


def test_days_begin_at_the_tenants_local_midnight(shanghai):
    """A PO at 23:30 UTC counts on the next Shanghai day; UTC days differ."""
    # When KPIs are asked per day for 9-10 March (Shanghai days)
    with tenant_scope(shanghai):
        rows = vendor_kpis_by_period(tenant=shanghai, start=datetime.date(2026, 3, 9),
                                     end=datetime.date(2026, 3, 11), granularity="day")
        utc_day = vendor_kpis(tenant=shanghai, period_start=_at("2026-03-09T00:00:00"),
                              period_end=_at("2026-03-10T00:00:00"))
    # Then each PO is on its local day, and periods start at local midnight
    assert _units(rows) == [("2026-03-09", 3), ("2026-03-10", 5)]
    assert rows[0].period_start == _at("2026-03-08T16:00:00")
    assert rows[1].period_end == _at("2026-03-10T16:00:00")
    # And acknowledgements due follow the deadline's local day
    assert [(row.pos_due, row.pos_acknowledged) for row in rows] == [(1, 0), (1, 1)]
    # While a UTC day would have put both POs on 9 March
    assert utc_day[0].units_ordered == 8


def test_weeks_and_months_are_local_and_queries_do_not_grow(shanghai):
    """ISO weeks and calendar months from local midnight, in a fixed number
    of queries whatever the number of periods."""
    with tenant_scope(shanghai):
        # When asked per month over February and March
        with CaptureQueriesContext(connection) as months_queries:
            months = vendor_kpis_by_period(tenant=shanghai, start=datetime.date(2026, 2, 1),
                                           end=datetime.date(2026, 4, 1), granularity="month")
        # Then the PO of 28 February 17:00 UTC is March's (1 March local)
        assert _units(months) == [("2026-02-01", 0), ("2026-03-01", 15)]
        # When asked per day over the same range
        with CaptureQueriesContext(connection) as days_queries:
            days = vendor_kpis_by_period(tenant=shanghai, start=datetime.date(2026, 2, 1),
                                         end=datetime.date(2026, 4, 1), granularity="day")
        assert len(days) == 59
        assert len(days_queries) == len(months_queries)
        # And weeks run Monday to Monday (9 March 2026 is a Monday)
        weeks = vendor_kpis_by_period(tenant=shanghai, start=datetime.date(2026, 3, 1),
                                      end=datetime.date(2026, 3, 16), granularity="week")
    assert _units(weeks) == [("2026-02-23", 7), ("2026-03-02", 0), ("2026-03-09", 8)]
    assert kpi_periods(start=datetime.date(2026, 1, 31), end=datetime.date(2026, 2, 2),
                       granularity="month") == [
        (datetime.date(2026, 1, 1), datetime.date(2026, 2, 1)),
        (datetime.date(2026, 2, 1), datetime.date(2026, 3, 1))]


def test_api_and_page_use_the_tenants_days(shanghai, api_client_for, member_client):
    """start_date/end_date and granularity on the API and the page."""
    api = api_client_for(shanghai)
    response = api.get(reverse("api:channels:vendor_kpis"), {
        "start_date": "2026-03-09", "end_date": "2026-03-11", "granularity": "day"})
    assert response.status_code == 200
    results = response.json()["results"]
    assert [(r["period_start"], r["units_ordered"]) for r in results] == [
        ("2026-03-08T16:00:00Z", 3), ("2026-03-09T16:00:00Z", 5)]
    page = member_client(shanghai).get(
        reverse("channels:vendor_kpis", kwargs={"tenant_slug": shanghai.slug}),
        {"start": "2026-03-09", "end": "2026-03-11", "granularity": "day"})
    assert page.status_code == 200
    assert b"2026-03-10" in page.content and b"Asia/Shanghai" in page.content
