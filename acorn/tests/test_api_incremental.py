"""BI incremental loads (issue 8 §4) and the API base's answers (issue 9
defect 9): ``updated_since`` + ascending ``(updated_at, id)`` on every list,
resumable without a miss or a duplicate under ties and concurrent updates;
the schema documents it and every error answer; a bad cursor is a 400."""

from __future__ import annotations

import datetime
import threading
import time

import pytest
import yaml
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from acorn.api import UpdatedSincePagination
from acorn.tenancy import tenant_scope
from inventory.models import Product
from inventory.tests.factories import ProductFactory

PRODUCTS = reverse("api:inventory:product_list")


@pytest.fixture
def no_settle(monkeypatch):
    """Rows show at once (the settle delay is tested on its own)."""
    monkeypatch.setattr(UpdatedSincePagination, "SETTLE_SECONDS", 0)


def _stamp(moment: datetime.datetime) -> str:
    return moment.astimezone(datetime.UTC).isoformat().replace("+00:00", "Z")


def _load(api, url, params):
    """A loader: follows ``next`` to the end; returns (rows, last position)."""
    rows, page_url, page_params = [], url, params
    while page_url:
        body = api.get(page_url, page_params).json()
        rows.extend(body["results"])
        page_url, page_params = body["next"], None
    return rows


def test_every_list_documents_updated_since_and_after_id(db, client):
    schema = yaml.safe_load(client.get(reverse("schema")).content)
    lists = [path for path, item in schema["paths"].items()
             if "cursor" in {p["name"] for p in item["get"].get("parameters", [])}]
    # Every paginated list (ten before the archives list was added).
    assert len(lists) >= 11 and "/api/v1/archives/" in lists
    for path in lists:
        names = {p["name"] for p in schema["paths"][path]["get"]["parameters"]}
        assert {"updated_since", "after_id", "page_size"} <= names, path


def test_every_operation_documents_its_error_answers(db, client):
    schema = yaml.safe_load(client.get(reverse("schema")).content)
    for path, item in schema["paths"].items():
        responses = item["get"]["responses"]
        assert {"200", "400", "401", "403", "404", "429", "503"} <= set(responses), path
        assert responses["503"]["content"]["application/json"]["schema"] == {
            "$ref": "#/components/schemas/Error"}


def test_nullable_fields_and_the_kpi_envelope_are_documented(db, client):
    """Were plain strings and a single object (issue 9 defect 9)."""
    components = yaml.safe_load(client.get(reverse("schema")).content)["components"]["schemas"]
    assert components["PurchaseOrderLineOutput"]["properties"]["product_sku"]["nullable"]
    assert components["ShipmentItemOutput"]["properties"]["product_sku"]["nullable"]
    assert components["CartonOutput"]["properties"]["pallet_sscc"]["nullable"]
    kpis = components["VendorKpiResults"]["properties"]
    assert kpis["results"]["type"] == "array"
    assert kpis["next"]["nullable"]


def test_invalid_cursor_is_a_400_in_the_error_shape(tenant_a, api_client_for):
    """Was a 404 (DRF's NotFound)."""
    response = api_client_for(tenant_a).get(PRODUCTS, {"cursor": "not-a-cursor"})
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid"
    assert "cursor" in response.json()["error"]["details"]


@pytest.mark.parametrize("params", [{"page_size": "0"}, {"page_size": "x"},
                                    {"page_size": "1001"}, {"sku": ""}, {"is_active": ""}])
def test_bad_or_empty_parameters_are_a_400(tenant_a, api_client_for, params):
    """DRF ignored a bad page_size and read ``?sku=`` as no filter."""
    response = api_client_for(tenant_a).get(PRODUCTS, params)
    assert response.status_code == 400
    assert set(response.json()["error"]["details"]) == set(params)


def test_unknown_api_url_answers_the_json_error_shape(tenant_a, api_client_for):
    response = api_client_for(tenant_a).get("/api/v1/products/null,null/")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_kpis_of_a_long_range_come_window_by_window(tenant_a, api_client_for):
    """A range over 750 periods was a 400 for a schema-valid request."""
    from channels.tests.factories import AmazonVendorAccountFactory

    with tenant_scope(tenant_a):
        AmazonVendorAccountFactory(tenant=tenant_a)
    api = api_client_for(tenant_a)
    url = reverse("api:channels:vendor_kpis")
    body = api.get(url, {"granularity": "day", "start_date": "2020-01-01",
                         "end_date": "2023-01-01"}).json()
    assert len(body["results"]) == 750
    rest = api.get(body["next"]).json()
    assert rest["next"] is None
    days = {row["period_start"] for row in body["results"] + rest["results"]}
    assert len(days) == (datetime.date(2023, 1, 1) - datetime.date(2020, 1, 1)).days
    empty = api.get(url, {"granularity": "month", "start_date": "2000-01-01",
                          "end_date": "2000-01-01"})
    assert empty.status_code == 200 and empty.json() == {"results": [], "next": None}
    far = api.get(url, {"granularity": "week", "start_date": "0001-01-01",
                        "end_date": "9999-12-31"})
    assert far.status_code == 200 and len(far.json()["results"]) == 750


def test_loader_resumes_without_miss_or_duplicate_on_ties(tenant_a, api_client_for, no_settle):
    """Forty rows share one microsecond: (updated_at, id) orders them, and a
    loader resuming from its last row reads each exactly once."""
    with tenant_scope(tenant_a):
        products = ProductFactory.create_batch(45, tenant=tenant_a)
        tie = timezone.now() - datetime.timedelta(minutes=5)
        Product.objects.filter(pk__in=[p.pk for p in products[:40]]).update(updated_at=tie)
    api = api_client_for(tenant_a)
    since = _stamp(tie - datetime.timedelta(seconds=1))
    first = api.get(PRODUCTS, {"updated_since": since, "page_size": 7}).json()
    assert len(first["results"]) == 7
    keys = [(row["updated_at"], row["id"]) for row in first["results"]]
    assert keys == sorted(keys)
    # The loader stores its last row and comes back later with it.
    last = first["results"][-1]
    rest = _load(api, PRODUCTS, {"updated_since": last["updated_at"], "after_id": last["id"],
                                 "page_size": 7})
    ids = [row["id"] for row in first["results"] + rest]
    assert sorted(ids) == sorted(p.pk for p in products)
    assert len(ids) == len(set(ids))


def test_rows_show_only_after_the_settle_delay(tenant_a, api_client_for):
    """A transaction still open when its row's updated_at passes would be
    missed by a loader already past that instant; rows wait SETTLE_SECONDS."""
    with tenant_scope(tenant_a):
        product = ProductFactory(tenant=tenant_a)
    api = api_client_for(tenant_a)
    since = _stamp(product.updated_at - datetime.timedelta(hours=1))
    assert api.get(PRODUCTS, {"updated_since": since}).json()["results"] == []
    with tenant_scope(tenant_a):
        Product.objects.filter(pk=product.pk).update(
            updated_at=timezone.now() - datetime.timedelta(
                seconds=UpdatedSincePagination.SETTLE_SECONDS + 1))
    assert [r["id"] for r in api.get(PRODUCTS, {"updated_since": since}).json()["results"]] == [
        product.pk]


@pytest.mark.django_db(transaction=True)
def test_loader_misses_nothing_under_concurrent_updates(tenant_a, api_client_for, monkeypatch):
    """While a loader pages, another connection keeps updating rows (many
    in the same microsecond, each in a transaction that commits late).
    Every row's final version reaches the loader; a row comes twice only
    as two versions (a later updated_at), never the same version twice."""
    monkeypatch.setattr(UpdatedSincePagination, "SETTLE_SECONDS", 1)
    with tenant_scope(tenant_a, atomic=False):
        products = ProductFactory.create_batch(60, tenant=tenant_a)
    ids = [p.pk for p in products]
    api = api_client_for(tenant_a)
    start = _stamp(timezone.now() - datetime.timedelta(hours=1))
    stop = threading.Event()

    def writer():
        from django.db import connection as thread_connection
        from django.db import transaction

        try:
            round_number = 0
            while not stop.is_set():
                round_number += 1
                chosen = ids[round_number % 6::6]
                with tenant_scope(tenant_a, atomic=False), transaction.atomic():
                    stamp = timezone.now()  # one microsecond for the batch
                    Product.objects.filter(pk__in=chosen).update(
                        updated_at=stamp, name=f"round {round_number}")
                    time.sleep(0.2)  # commits after its stamp
                time.sleep(0.05)
        finally:
            thread_connection.close()

    thread = threading.Thread(target=writer)
    thread.start()
    seen: list[tuple[int, str]] = []
    position = {"updated_since": start}
    try:
        deadline = time.monotonic() + 4
        while time.monotonic() < deadline:
            rows = _load(api, PRODUCTS, {**position, "page_size": 5})
            seen.extend((row["id"], row["updated_at"]) for row in rows)
            if rows:
                position = {"updated_since": rows[-1]["updated_at"], "after_id": rows[-1]["id"]}
            time.sleep(0.1)
    finally:
        stop.set()
        thread.join()
    # Every write has committed: step the clock past the settle delay.
    settled = datetime.timedelta(seconds=UpdatedSincePagination.SETTLE_SECONDS + 0.1)
    monkeypatch.setattr(UpdatedSincePagination, "clock",
                        staticmethod(lambda: timezone.now() + settled))
    rows = _load(api, PRODUCTS, {**position, "page_size": 5})
    seen.extend((row["id"], row["updated_at"]) for row in rows)
    # Nothing repeated: each (id, version) once.
    assert len(seen) == len(set(seen))
    # Nothing missed: the loader's last version of each row is the stored one.
    latest: dict[int, str] = {}
    for product_id, stamp in seen:
        latest[product_id] = stamp
    with tenant_scope(tenant_a, atomic=False):
        stored = {p.pk: _stamp(p.updated_at) for p in Product.objects.filter(pk__in=ids)}
    assert latest == stored


def test_incremental_page_has_a_fixed_number_of_queries(tenant_a, api_client_for, no_settle):
    api = api_client_for(tenant_a)
    since = _stamp(timezone.now() - datetime.timedelta(days=1))
    with tenant_scope(tenant_a):
        ProductFactory.create_batch(3, tenant=tenant_a)
    api.get(PRODUCTS, {"updated_since": since})  # warm the key's last-used touch
    with CaptureQueriesContext(connection) as small:
        api.get(PRODUCTS, {"updated_since": since})
    with tenant_scope(tenant_a):
        ProductFactory.create_batch(30, tenant=tenant_a)
    with CaptureQueriesContext(connection) as large:
        assert len(api.get(PRODUCTS, {"updated_since": since}).json()["results"]) == 33
    assert len(large) == len(small)
