"""The home page's set-up checklist: what a new tenant still lacks before
its first PO can be acknowledged, shipped and invoiced, each step linked."""

import re

import pytest
from django.urls import reverse

from acorn.models import Role
from acorn.tenancy import tenant_scope


def _steps(page: str) -> dict[str, str]:
    """Step code -> "done" or "todo", as the page shows them."""
    found = re.findall(r'class="(done|todo)" data-step="([a-z0-9_]+)"', page)
    return {code: state for state, code in found}


@pytest.mark.django_db
def test_a_new_tenant_sees_every_step_to_do_with_links(member_client, tenant_a):
    admin = member_client(tenant_a, Role.ADMIN)
    page = admin.get(reverse("tenant_home", args=[tenant_a.slug])).content.decode()
    assert _steps(page) == {
        "warehouse": "todo", "stock_loaded": "todo", "amazon_account_tested": "todo",
        "skus_mapped": "todo", "gs1_prefix": "todo", "legal_entity": "todo",
    }
    for name in ("inventory:warehouse_list", "channels:gs1_settings", "invoicing:legal_entity"):
        assert f'href="{reverse(name, args=[tenant_a.slug])}"' in page


@pytest.mark.django_db
def test_viewers_see_the_steps_without_links_to_pages_they_cannot_open(member_client, tenant_a):
    viewer = member_client(tenant_a, Role.VIEWER)
    page = viewer.get(reverse("tenant_home", args=[tenant_a.slug])).content.decode()
    assert "onboarding-checklist" in page
    assert reverse("channels:gs1_settings", args=[tenant_a.slug]) not in page


@pytest.mark.django_db
def test_steps_turn_done_as_the_tenant_sets_up_and_the_list_goes_when_complete(
    member_client, tenant_a
):
    from channels.models import AccountEnvironment, AmazonVendorAccount, SkuMapping
    from channels.services.gs1_settings import gs1_settings_set
    from inventory.services import stock_receive
    from inventory.tests.factories import ProductFactory, WarehouseFactory
    from invoicing.services import legal_entity_set, tax_registration_add

    admin = member_client(tenant_a, Role.ADMIN)
    url = reverse("tenant_home", args=[tenant_a.slug])
    with tenant_scope(tenant_a):
        warehouse = WarehouseFactory(tenant=tenant_a, code="MAIN")
    steps = _steps(admin.get(url).content.decode())
    assert steps["warehouse"] == "done" and steps["stock_loaded"] == "todo"
    with tenant_scope(tenant_a):
        product = ProductFactory(tenant=tenant_a, sku="TEA-1")
        stock_receive(tenant=tenant_a, product=product, warehouse=warehouse, quantity=5)
        account = AmazonVendorAccount.objects.create(
            tenant=tenant_a, name="EU", environment=AccountEnvironment.LOCAL_SANDBOX,
            last_connection_test_ok=True,
        )
        SkuMapping.objects.create(tenant=tenant_a, account=account, asin="B000000001",
                                  product=product)
    gs1_settings_set(tenant=tenant_a, company_prefix="0614141", extension_digit=0)
    legal_entity_set(tenant=tenant_a, data={"legal_name": "Alpha GmbH",
                                            "address_line1": "1 Street", "city": "Berlin",
                                            "country_code": "DE"})
    steps = _steps(admin.get(url).content.decode())
    assert steps["legal_entity"] == "todo"  # a tax number is still missing
    tax_registration_add(tenant=tenant_a, scheme="eu_vat", country_code="DE",
                         number="DE136695976")
    page = admin.get(url).content.decode()
    assert "onboarding-checklist" not in page
