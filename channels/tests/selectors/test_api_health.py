"""API health from the call log: one aggregate query, right numbers, and
the work-queue alert that opens once and closes itself."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext, override_settings
from django.utils import timezone

from acorn.overview import cards_present
from channels.models import ApiCallLog, ChannelException, ExceptionKind, ExceptionStatus
from channels.selectors.api_health import api_call_stats, overview_cards
from channels.services.api_health import api_health_check
from channels.tests.factories import AmazonVendorAccountFactory


def log_calls(tenant, account, operation, *, ok=0, failed=0, throttled=0, durations=None,
              created_at=None):
    """``ok`` 200s, ``failed`` 500s, ``throttled`` final 429s (2 attempts,
    both throttled); durations cycle through ``durations``."""
    durations = durations or [100]
    rows = []
    specs = [(200, "", 1, 0)] * ok + [(500, "InternalFailure", 3, 0)] * failed + [
        (429, "QuotaExceeded", 2, 2)] * throttled
    for index, (status, code, attempts, throttled_attempts) in enumerate(specs):
        rows.append(ApiCallLog(
            tenant=tenant, account=account, operation=operation, method="GET", path="/x",
            status_code=status, error_code=code, attempts=attempts,
            throttled_attempts=throttled_attempts, duration_ms=durations[index % len(durations)],
        ))
    ApiCallLog.objects.bulk_create(rows)
    if created_at is not None:
        ApiCallLog.objects.filter(pk__in=[row.pk for row in rows]).update(created_at=created_at)
    return rows


@pytest.mark.django_db
def test_stats_per_account_and_operation_in_one_query(scope):
    # Given two accounts' calls, some old (outside the window)
    first = AmazonVendorAccountFactory(tenant=scope, name="First")
    second = AmazonVendorAccountFactory(tenant=scope, name="Second")
    log_calls(scope, first, "getPurchaseOrders", ok=18, failed=1, throttled=1,
              durations=list(range(10, 210, 10)))
    log_calls(scope, first, "submitAcknowledgement", ok=3)
    log_calls(scope, second, "getPurchaseOrders", ok=5)
    log_calls(scope, second, "getPurchaseOrders", failed=50,
              created_at=timezone.now() - datetime.timedelta(hours=3))
    since = timezone.now() - datetime.timedelta(hours=1)
    # When the stats are read
    with CaptureQueriesContext(connection) as queries:
        stats = api_call_stats(tenant=scope, since=since)
    # Then one query gives every group, old calls left out
    assert len([q for q in queries if "apicalllog" in q["sql"].lower()]) == 1
    by_key = {(row.account_name, row.operation): row for row in stats}
    assert sorted(by_key) == [("First", "getPurchaseOrders"), ("First", "submitAcknowledgement"),
                              ("Second", "getPurchaseOrders")]
    row = by_key[("First", "getPurchaseOrders")]
    assert (row.calls, row.succeeded, row.failed, row.throttled_calls) == (20, 18, 2, 1)
    # attempts: 18 x 1 + 1 x 3 + 1 x 2 = 23, of which 2 throttled
    assert (row.attempts, row.throttled_attempts) == (23, 2)
    assert row.success_percent == 90.0
    assert row.throttled_percent == round(100 * 2 / 23, 1)
    # durations 10..200 ms: p95 by linear interpolation = 190.5
    assert row.p95_ms == 190.5
    assert row.max_ms == 200
    assert by_key[("Second", "getPurchaseOrders")].calls == 5
    # And grouped by account only, the totals add up
    totals = {row.account_name: row for row in api_call_stats(
        tenant=scope, since=since, by_operation=False)}
    assert totals["First"].calls == 23 and totals["First"].operation == ""


@pytest.mark.django_db
def test_stats_never_include_another_tenants_calls(scope, tenant_b):
    from acorn.tenancy import tenant_scope

    mine = AmazonVendorAccountFactory(tenant=scope)
    log_calls(scope, mine, "getPurchaseOrders", ok=2)
    with tenant_scope(tenant_b):
        other = AmazonVendorAccountFactory(tenant=tenant_b)
        log_calls(tenant_b, other, "getPurchaseOrders", failed=7)
    stats = api_call_stats(tenant=scope, since=timezone.now() - datetime.timedelta(hours=1))
    assert [(row.account_id, row.calls) for row in stats] == [(mine.pk, 2)]


def _open_alerts(account):
    return ChannelException.objects.filter(
        account=account, kind=ExceptionKind.API_HEALTH, status=ExceptionStatus.OPEN)


@pytest.mark.django_db
@override_settings(ACORN_API_HEALTH_MIN_CALLS=20, ACORN_API_HEALTH_MIN_SUCCESS_PERCENT=95,
                   ACORN_API_HEALTH_MAX_THROTTLED_PERCENT=10)
def test_alert_opens_once_refreshes_and_closes_itself(scope):
    account = AmazonVendorAccountFactory(tenant=scope, name="US")
    quiet = AmazonVendorAccountFactory(tenant=scope, name="Quiet")
    # Given 20 calls with 3 failures (85 % success) and a quiet account with
    # only failures but too few calls to judge
    log_calls(scope, account, "getPurchaseOrders", ok=17, failed=3)
    log_calls(scope, quiet, "getPurchaseOrders", failed=5)
    # When the check runs twice
    assert api_health_check(tenant=scope) == {"opened": 1, "resolved": 0}
    log_calls(scope, account, "getPurchaseOrders", failed=1)
    assert api_health_check(tenant=scope) == {"opened": 0, "resolved": 0}
    # Then one open alert, with the latest numbers, and none for the quiet one
    alert = _open_alerts(account).get()
    assert "81% of 21 calls succeeded" in alert.message
    assert alert.detail["calls"] == 21 and alert.detail["succeeded"] == 17
    assert not _open_alerts(quiet).exists()
    # When the window fills with good calls (98.6 %: above 95 + 2 margin)
    ApiCallLog.objects.filter(account=account).update(
        created_at=timezone.now() - datetime.timedelta(hours=2))
    log_calls(scope, account, "getPurchaseOrders", ok=69, failed=1)
    # Then the alert closes by itself
    assert api_health_check(tenant=scope) == {"opened": 0, "resolved": 1}
    assert not _open_alerts(account).exists()
    alert.refresh_from_db()
    assert alert.resolution.startswith("Healthy again")


@pytest.mark.django_db
@override_settings(ACORN_API_HEALTH_MIN_CALLS=10, ACORN_API_HEALTH_MAX_THROTTLED_PERCENT=10)
def test_alert_on_429_share_even_when_calls_succeed(scope):
    account = AmazonVendorAccountFactory(tenant=scope)
    rows = log_calls(scope, account, "getPurchaseOrders", ok=10)
    # every call needed 2 attempts, one of them throttled: 50 % of attempts
    ApiCallLog.objects.filter(pk__in=[r.pk for r in rows]).update(
        attempts=2, throttled_attempts=1)
    assert api_health_check(tenant=scope)["opened"] == 1
    assert "50% of attempts throttled" in _open_alerts(account).get().message


@pytest.mark.django_db
@override_settings(ACORN_API_HEALTH_MIN_CALLS=20)
def test_home_card_shows_each_accounts_api_health(scope):
    healthy = AmazonVendorAccountFactory(tenant=scope, name="Healthy")
    sick = AmazonVendorAccountFactory(tenant=scope, name="Sick")
    AmazonVendorAccountFactory(tenant=scope, name="Idle")
    log_calls(scope, healthy, "getPurchaseOrders", ok=30)
    log_calls(scope, sick, "getPurchaseOrders", ok=10, failed=10)
    with CaptureQueriesContext(connection) as queries:
        cards = {card["label"]: card
                 for card in cards_present(overview_cards(tenant=scope), tenant=scope)}
    assert len([q for q in queries if q["sql"].lstrip().upper().startswith("SELECT")]) == 2
    assert cards["Amazon API health: Healthy"]["value"] == "100 %"
    assert cards["Amazon API health: Healthy"]["tone"] == "ok"
    assert cards["Amazon API health: Sick"]["value"] == "50 %"
    assert cards["Amazon API health: Sick"]["tone"] == "warning"
    assert cards["Amazon API health: Idle"]["value"] == "–"
