"""Suppliers, channel buffer rules (with the ATP preview) and inbound
supply: configured from the dashboard, audited, read by planning and ATP."""

from datetime import date, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from acorn.models import AuditEntry, Role
from acorn.tenancy import tenant_scope
from inventory.models import ChannelRule, InboundStatus, InboundSupply, Supplier
from inventory.selectors import atp_get
from inventory.services import stock_receive
from inventory.tests.factories import ProductFactory, WarehouseFactory


@pytest.fixture
def stocked(tenant):
    with tenant_scope(tenant):
        warehouse = WarehouseFactory(tenant=tenant, code="MAIN")
        product = ProductFactory(tenant=tenant, sku="TEA-100", safety_stock=0)
        stock_receive(tenant=tenant, product=product, warehouse=warehouse, quantity=100)
    return {"warehouse": warehouse, "product": product}


def _url(tenant, name):
    return reverse(f"inventory:{name}", args=[tenant.slug])


@pytest.mark.django_db
def test_admin_creates_and_edits_a_supplier(
    member_client, tenant, stocked
):
    admin = member_client(tenant, Role.ADMIN)
    data = {"code": "SZ-01", "name": "Shenzhen Tea", "lead_time_days": 45, "moq_units": 200,
            "case_pack": 24}
    assert admin.post(_url(tenant, "supplier_list"), data).status_code == 302
    with tenant_scope(tenant):
        supplier = Supplier.objects.get(code="SZ-01")
    edit = {**data, "supplier_id": supplier.pk, "lead_time_days": 60}
    assert admin.post(_url(tenant, "supplier_list"), edit).status_code == 302
    with tenant_scope(tenant):
        supplier.refresh_from_db()
    assert (supplier.lead_time_days, supplier.moq_units, supplier.case_pack) == (60, 200, 24)
    with tenant_scope(tenant):
        actions = set(AuditEntry.objects.filter(object_type="inventory.Supplier")
                      .values_list("action", flat=True))
    assert actions == {"create", "update"}
    page = admin.get(_url(tenant, "supplier_list")).content.decode()
    assert "Shenzhen Tea" in page


@pytest.mark.django_db
def test_duplicate_supplier_code_is_a_form_error_and_operations_cannot_edit(
    member_client, tenant
):
    admin = member_client(tenant, Role.ADMIN)
    data = {"code": "SZ-01", "name": "A", "lead_time_days": 1, "moq_units": 0, "case_pack": 1}
    admin.post(_url(tenant, "supplier_list"), data)
    response = admin.post(_url(tenant, "supplier_list"), data)
    assert response.status_code == 200
    assert "already exists" in response.content.decode()
    ops = member_client(tenant, Role.OPERATIONS)
    assert ops.post(_url(tenant, "supplier_list"), {**data, "code": "X"}).status_code == 403
    assert ops.get(_url(tenant, "supplier_list")).status_code == 200


@pytest.mark.django_db
def test_a_channel_rule_from_the_page_changes_atp_and_the_preview_shows_it(
    member_client, tenant, stocked
):
    admin = member_client(tenant, Role.ADMIN)
    rule = {"channel": "amazon_vendor", "product_sku": "TEA-100", "allocation_percent": "50",
            "keep_back": 5, "zero_at": 0, "inbound_horizon_days": 0}
    response = admin.post(_url(tenant, "channel_rule_list"), rule)
    assert response.status_code == 302
    with tenant_scope(tenant):
        assert atp_get(tenant=tenant, channel="amazon_vendor",
                       product_id=stocked["product"].pk).available == 45  # 100 * 50 % - 5
    page = admin.get(_url(tenant, "channel_rule_list") + "?preview=amazon_vendor")
    preview = page.content.decode().split('id="atp-preview"')[1]
    assert "TEA-100" in preview and "<strong>45</strong>" in preview
    # removing it returns the product to all free stock
    with tenant_scope(tenant):
        rule_id = ChannelRule.objects.get().pk
    assert admin.post(_url(tenant, "channel_rule_list"), {"delete": rule_id}).status_code == 302
    with tenant_scope(tenant):
        assert atp_get(tenant=tenant, channel="amazon_vendor",
                       product_id=stocked["product"].pk).available == 100
        assert AuditEntry.objects.filter(object_type="inventory.ChannelRule",
                                         action="delete").exists()


@pytest.mark.django_db
def test_an_unknown_sku_in_a_rule_is_a_form_error(member_client, tenant, stocked):
    admin = member_client(tenant, Role.ADMIN)
    response = admin.post(_url(tenant, "channel_rule_list"), {
        "channel": "amazon_vendor", "product_sku": "NOPE", "allocation_percent": "50",
        "keep_back": 0, "zero_at": 0, "inbound_horizon_days": 0})
    assert response.status_code == 200
    assert "NOPE" in response.content.decode()
    with tenant_scope(tenant):
        assert not ChannelRule.objects.exists()


@pytest.mark.django_db
def test_inbound_supply_entered_by_operations_feeds_amazon_backorders(
    member_client, tenant, stocked
):
    ops = member_client(tenant, Role.OPERATIONS)
    due = timezone.now().date() + timedelta(days=10)
    response = ops.post(_url(tenant, "inbound_supply_list"), {
        "reference": "SPO-778", "product_sku": "TEA-100", "warehouse_code": "MAIN",
        "quantity": 40, "expected_on": due.isoformat()})
    assert response.status_code == 302
    admin = member_client(tenant, Role.ADMIN)
    admin.post(_url(tenant, "channel_rule_list"), {
        "channel": "amazon_vendor", "product_sku": "", "allocation_percent": "100",
        "keep_back": 0, "zero_at": 0, "include_inbound": "on", "inbound_horizon_days": 14})
    with tenant_scope(tenant):
        atp = atp_get(tenant=tenant, channel="amazon_vendor", product_id=stocked["product"].pk)
        assert (atp.inbound, atp.available) == (40, 140)
        inbound = InboundSupply.objects.get(reference="SPO-778")
    page = ops.get(_url(tenant, "inbound_supply_list")).content.decode()
    assert "SPO-778" in page
    ops.post(_url(tenant, "inbound_supply_list"),
             {"inbound_id": inbound.pk, "status": InboundStatus.RECEIVED})
    with tenant_scope(tenant):
        inbound.refresh_from_db()
    assert inbound.status == InboundStatus.RECEIVED
    with tenant_scope(tenant):
        atp = atp_get(tenant=tenant, channel="amazon_vendor", product_id=stocked["product"].pk)
        assert atp.inbound == 0


@pytest.mark.django_db
def test_inbound_with_an_unknown_warehouse_or_bad_date_is_refused(member_client, tenant, stocked):
    ops = member_client(tenant, Role.OPERATIONS)
    bad = {"reference": "R1", "product_sku": "TEA-100", "warehouse_code": "NOWHERE",
           "quantity": 1, "expected_on": date(2030, 1, 1).isoformat()}
    response = ops.post(_url(tenant, "inbound_supply_list"), bad)
    assert response.status_code == 200 and "NOWHERE" in response.content.decode()
    response = ops.post(_url(tenant, "inbound_supply_list"),
                        {**bad, "warehouse_code": "MAIN", "expected_on": "31/02/2030"})
    assert response.status_code == 200
    with tenant_scope(tenant):
        assert not InboundSupply.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize("name", ["supplier_list", "channel_rule_list", "inbound_supply_list"])
def test_setup_pages_take_a_fixed_number_of_queries(
    member_client, tenant, stocked, name, django_assert_max_num_queries
):
    admin = member_client(tenant, Role.ADMIN)
    with tenant_scope(tenant):
        for i in range(15):
            ProductFactory(tenant=tenant, sku=f"BULK-{i}")
    with django_assert_max_num_queries(14):
        assert admin.get(_url(tenant, name)).status_code == 200
