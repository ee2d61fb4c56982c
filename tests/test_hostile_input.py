"""Hostile input never answers 500 (issue 9 defect 6).

Walks every dashboard and API URL (the same walk and probes as
tests/test_tenant_isolation.py) sending NUL bytes, control characters,
junk ids and integers beyond PostgreSQL's bigint, in query strings, form
fields, form field names and uploaded file names. NUL/control characters
get a 400 in the URL's shape (JSON error for /api/, the HTML 400 page for
the dashboard); junk ids and overflowing integers a 400 or a form error.
"""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from acorn.models import Role
from acorn.tests.factories import UserFactory, membership_create
from tests.test_tenant_isolation import PROBES, URL_NAMES

DASHBOARD = [name for name in URL_NAMES if not name.startswith("api:")]
API = [name for name in URL_NAMES if name.startswith("api:")]

# Names the dashboard filters and forms read (ids, pages, search boxes).
FIELD_NAMES = ["q", "page", "account", "product", "warehouse", "status", "kind", "action",
               "actor", "object_type", "state", "ack_status", "exception_id", "membership_id",
               "quantity", "sku", "cursor", "updated_since", "date_from", "date_to", "name"]
JUNK_IDS = {name: "1 OR 1=1" for name in FIELD_NAMES}
HUGE = {name: "9" * 30 for name in FIELD_NAMES}
NEGATIVE_HUGE = {name: "-" + "9" * 30 for name in FIELD_NAMES}
NUL = {name: "a\x00b" for name in FIELD_NAMES}
CONTROL = {name: "a\x1bb\x07" for name in FIELD_NAMES}


def _admin(tenant):
    user = UserFactory(username=f"hostile-admin-{tenant.slug}")
    membership_create(tenant=tenant, user=user, role=Role.ADMIN)
    client = Client(raise_request_exception=False)
    client.force_login(user)
    return client


def _target(url_name, tenant):
    target = PROBES[url_name](tenant)
    url = reverse(url_name, kwargs={"tenant_slug": tenant.slug, **target.kwargs}
                  if not url_name.startswith("api:") else target.kwargs)
    return target, url


def _assert_html_400(response):
    assert response.status_code == 400, response.status_code
    assert response["Content-Type"].startswith("text/html")
    assert "Bad request" in response.content.decode()


@pytest.mark.django_db
@pytest.mark.parametrize("url_name", DASHBOARD)
def test_dashboard_refuses_nul_and_control_characters(url_name, tenant_a):
    client = _admin(tenant_a)
    target, url = _target(url_name, tenant_a)
    for bad in (NUL, CONTROL):
        _assert_html_400(client.get(url, bad))
        _assert_html_400(client.post(url, {**target.data, **bad}))
    # A NUL in a field's name, and in an uploaded file's name
    _assert_html_400(client.post(url, {**target.data, "line_\x00_qty": "1"}))
    upload = SimpleUploadedFile("rows.csv", b"sku\nA\n", content_type="text/csv")
    _assert_html_400(client.post(url, {**target.data, "fi\x00le": upload}))
    # Django's multipart parser drops unprintable characters from file names
    upload = SimpleUploadedFile("rows\x00\x1b.csv", b"sku\nA\n", content_type="text/csv")
    response = client.post(url, {**target.data, "file": upload})
    assert response.status_code < 500, response.status_code


@pytest.mark.django_db
@pytest.mark.parametrize("url_name", DASHBOARD)
def test_dashboard_junk_ids_and_huge_integers_are_never_500(url_name, tenant_a):
    client = _admin(tenant_a)
    target, url = _target(url_name, tenant_a)
    for junk in (JUNK_IDS, HUGE, NEGATIVE_HUGE):
        for response in (client.get(url, junk), client.post(url, {**target.data, **junk})):
            assert response.status_code < 500, (junk[FIELD_NAMES[0]], response.status_code)
    # Field names that embed an id (acknowledgement and shipment forms)
    names = {f"{prefix}{suffix}": "1" for prefix in ("accept_", "backorder_", "reject_",
                                                      "qty_", "line_", "quantity_")
             for suffix in ("abc", "9" * 30, "-1")}
    response = client.post(url, {**target.data, **names})
    assert response.status_code < 500, response.status_code


@pytest.mark.django_db
@pytest.mark.parametrize("url_name", API)
def test_api_refuses_nul_with_the_json_error_shape(url_name, tenant_a, api_client_for):
    api = api_client_for(tenant_a)
    target = PROBES[url_name](tenant_a)
    url = reverse(url_name, kwargs=target.kwargs)
    for bad in (NUL, CONTROL):
        response = api.get(url, bad)
        assert response.status_code == 400, response.status_code
        assert response.json()["error"]["code"] == "bad_request"
    for junk in (JUNK_IDS, HUGE, NEGATIVE_HUGE):
        response = api.get(url, junk)
        assert response.status_code < 500, response.status_code
        if response.status_code == 400:
            assert "error" in response.json()


@pytest.mark.django_db
def test_control_characters_in_a_json_body_are_a_400(tenant_a, api_client_for):
    api = api_client_for(tenant_a, scopes=["read", "write"])
    response = api.generic("POST", reverse("api:tenant_detail"),
                           '{"name": "a\\u0000b"}', content_type="application/json")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "bad_request"
    response = api.generic("POST", reverse("api:tenant_detail"),
                           '{"name\\u0007": "x"}', content_type="application/json")
    assert response.status_code == 400


@pytest.mark.django_db
def test_ordinary_whitespace_passes(tenant_a, member_client):
    """Tab, newline and carriage return are text, not attacks: a textarea sends them."""
    client = member_client(tenant_a, "admin")
    url = reverse("audit_log", kwargs={"tenant_slug": "alpha"})
    assert client.get(url, {"actor": "a\tb\r\nc"}).status_code == 200


@pytest.mark.django_db
@pytest.mark.parametrize("kind", ["product_adjust", "product_count", "product_receive"])
@pytest.mark.parametrize("quantity", [str(2**31), str(-(2**31) - 1), str(2**63), "9" * 30])
def test_stock_quantities_beyond_postgresql_integer_are_a_form_error(
    tenant_a, member_client, kind, quantity
):
    """Regression: a quantity beyond PostgreSQL's integer answered 500."""
    from acorn.tenancy import tenant_scope
    from inventory.models import StockMovement
    from inventory.tests.factories import ProductFactory, WarehouseFactory

    with tenant_scope(tenant_a):
        product = ProductFactory(tenant=tenant_a)
        warehouse = WarehouseFactory(tenant=tenant_a)
    client = member_client(tenant_a, "operations")
    url = reverse(f"inventory:{kind}", kwargs={"tenant_slug": "alpha", "product_id": product.pk})
    response = client.post(url, {"warehouse": warehouse.code, "quantity": quantity,
                                 "reason": "overflow"}, follow=True)
    assert response.status_code == 200
    assert "Check the quantity and warehouse." in response.content.decode()
    with tenant_scope(tenant_a):
        assert not StockMovement.objects.exists()


@pytest.mark.django_db
def test_shipment_field_names_must_carry_numeric_line_ids(tenant_a, member_client):
    """``qty_<line id>`` fields: a junk or overflowing id is a 400, not a 500."""
    from acorn.tenancy import tenant_scope
    from inventory.tests.factories import WarehouseFactory

    with tenant_scope(tenant_a):
        warehouse = WarehouseFactory(tenant=tenant_a)
    client = member_client(tenant_a, "operations")
    url = reverse("channels:shipment_create", kwargs={"tenant_slug": "alpha"})
    for name in ("qty_abc", "qty_" + "9" * 30, "qty_1 OR 1=1", "lot_x"):
        response = client.post(url, {"warehouse": warehouse.pk, "shipment_type": "SmallParcel",
                                     "carton_mode": "one", name: "1"})
        _assert_html_400(response)
