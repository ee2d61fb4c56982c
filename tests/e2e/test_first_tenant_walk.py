"""Day one for a real tenant, in a browser (issue 8, "Done means"): a new
company signs up, confirms its e-mail, lands in its tenant as admin,
invites a colleague who accepts in a second browser, and fills the
settings pages, in English and in Simplified Chinese.

Elements are found by ids and names, never by English text, so the same
walk runs in both languages. The confirmation and invitation links are
read from Django's locmem outbox (live_server runs in this process).

The walk: sign-up through the warehouse, supplier, product import,
inbound supply import, GS1, legal entity + tax number, channel rule,
Amazon account (a running sandbox, test connection), SKU mapping and a
stock receipt on the product page, then the home page's checklist is
complete (the receipt step found the ``lot_number`` 400 fixed alongside);
a PO syncs in (the sync service the beat runs), its acknowledgement is
sent from the review page (the worker's send run in the test), a shipment
of the accepted lines is built with cartons and its ASN sent.
"""

import contextlib
import re

import pytest
from django.core import mail
from django.urls import reverse

from acorn.models import Membership, Role, Tenant
from acorn.tenancy import tenant_scope
from channels.models import (
    AmazonVendorAccount,
    PurchaseOrder,
    PurchaseOrderLine,
    Shipment,
    SkuMapping,
    Submission,
)
from channels.services.purchase_orders import purchase_orders_sync
from channels.services.submissions import submission_send
from inventory.models import (
    ChannelRule,
    InboundSupply,
    Product,
    StockLevel,
    Supplier,
    Warehouse,
)
from invoicing.models import LegalEntity, TaxRegistration
from vendor_api.sandbox.state import DEMO_VENDOR_CODE
from vendor_api.sandbox.testing import running_sandbox

PASSWORD = "Spring-Lotus-2026!"
LINK = re.compile(r"https?://[^/\s]+(/\S+)")
CHINESE = re.compile(r"[\u4e00-\u9fff]")


def _link(message) -> str:
    match = LINK.search(message.body)
    assert match, message.body
    return match.group(1)


GRANT = {"client_id": "amzn1.application-oa2-client.lotus", "client_secret": "lotus-secret",
         "refresh_token": "Atzr|lotus"}


@pytest.fixture
def stack():
    with contextlib.ExitStack() as stack:
        yield stack


@pytest.fixture
def browser(chromium_path, monkeypatch):
    from playwright.sync_api import sync_playwright

    from tests.e2e.conftest import CHROMIUM_ARGS

    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_path, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


def _submit(page, form_selector):
    with page.expect_navigation():
        page.click(f"{form_selector} button[type=submit]")


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("locale", ["en-US", "zh-CN"])
def test_a_new_company_signs_up_invites_and_fills_its_settings(
    live_server, browser, tmp_path, locale, stack
):
    mail.outbox.clear()
    url = live_server.url
    sandbox = stack.enter_context(running_sandbox(purchase_orders=0))
    sandbox.state.add_app(client_id=GRANT["client_id"], client_secret=GRANT["client_secret"],
                          refresh_token=GRANT["refresh_token"], vendor_codes=(DEMO_VENDOR_CODE,))
    founder = browser.new_context(locale=locale)
    page = founder.new_page()
    page.set_default_timeout(20_000)
    try:
        # Sign-up: company, admin e-mail, password
        page.goto(f"{url}/accounts/signup/")
        assert page.get_attribute("html", "lang").startswith(locale[:2].lower())
        page.fill("#id_company_name", "Lotus Trading")
        page.fill("#id_email", "founder@lotus.example")
        page.fill("#id_password", PASSWORD)
        page.fill("#id_password_confirm", PASSWORD)
        with page.expect_navigation():
            page.click("form[action$='/accounts/signup/'] button[type=submit]")
        # The confirmation link arrives by e-mail; confirming opens the tenant
        assert len(mail.outbox) == 1
        page.goto(url + _link(mail.outbox[0]))
        with page.expect_navigation():
            page.click("#confirm-email")
        tenant = Tenant.objects.get(name="Lotus Trading")
        page.wait_for_url(f"**/t/{tenant.slug}/")
        with tenant_scope(tenant):
            assert Membership.objects.get(tenant=tenant).role == Role.ADMIN
        if locale == "zh-CN":
            assert CHINESE.search(page.inner_text("h1")), page.inner_text("h1")

        # Members: invite a colleague, who accepts in a browser of their own
        page.goto(url + reverse("member_list", args=[tenant.slug]))
        page.fill("#invite-form input[name=email]", "ops@lotus.example")
        page.select_option("#invite-form select[name=role]", Role.OPERATIONS)
        with page.expect_navigation():
            page.click("#invite-form button[name=invite]")
        assert len(mail.outbox) == 2
        colleague = browser.new_context(locale=locale)
        other = colleague.new_page()
        other.goto(url + _link(mail.outbox[1]))
        other.fill("input[name=password]", PASSWORD)
        other.fill("input[name=password_confirm]", PASSWORD)
        with other.expect_navigation():
            other.click("#accept-invitation")
        other.wait_for_url(f"**/t/{tenant.slug}/")
        colleague.close()
        with tenant_scope(tenant):
            assert Membership.objects.get(
                tenant=tenant, user__username="ops@lotus.example").role == Role.OPERATIONS

        # Warehouse
        page.goto(url + reverse("inventory:warehouse_list", args=[tenant.slug]))
        page.fill("input[name=code]", "SZX")
        page.fill("input[name=name]", "Shenzhen")
        page.fill("input[name=country]", "CN")
        _submit(page, "form[method=post]:has(input[name=code])")

        # Supplier
        page.goto(url + reverse("inventory:supplier_list", args=[tenant.slug]))
        page.fill("#supplier-form input[name=code]", "TEA-CO")
        page.fill("#supplier-form input[name=name]", "Tea Co")
        page.fill("#supplier-form input[name=lead_time_days]", "21")
        _submit(page, "#supplier-form")

        # Products from a CSV, dry run first, then applied
        products = tmp_path / "products.csv"
        products.write_text("sku,name,case_pack,supplier_code\nTEA-100,Green tea,6,TEA-CO\n")
        for apply in (False, True):
            page.goto(url + reverse("inventory:product_import", args=[tenant.slug]))
            page.set_input_files("input[name=file]", str(products))
            if apply:
                page.check("input[name=apply]")
            _submit(page, "form[enctype='multipart/form-data']")

        # Stock: a receipt on the product's page
        with tenant_scope(tenant):
            product_id = Product.objects.get(tenant=tenant, sku="TEA-100").pk
        page.goto(url + reverse("inventory:product_detail", args=[tenant.slug, product_id]))
        receipt = "form[action$='/receive/']"
        page.fill(f"{receipt} input[name=warehouse]", "SZX")
        page.fill(f"{receipt} input[name=quantity]", "240")
        _submit(page, receipt)

        # Inbound supply from a CSV (the import this session added)
        inbound = tmp_path / "inbound.csv"
        inbound.write_text("reference,sku,warehouse,quantity,expected_on\n"
                           "SPO-1,TEA-100,SZX,120,2027-06-01\n")
        page.goto(url + reverse("inventory:inbound_supply_list", args=[tenant.slug]))
        with page.expect_navigation():
            page.click("#inbound-import-link")
        page.set_input_files("#inbound-import-form input[name=file]", str(inbound))
        page.check("#inbound-import-form input[name=apply]")
        _submit(page, "#inbound-import-form")

        # GS1 prefix
        page.goto(url + reverse("channels:gs1_settings", args=[tenant.slug]))
        page.fill("#gs1-form input[name=company_prefix]", "0614141")
        _submit(page, "#gs1-form")

        # Legal entity and a tax registration (invoicing uses them)
        page.goto(url + reverse("invoicing:legal_entity", args=[tenant.slug]))
        page.fill("#legal-entity-form input[name=legal_name]", "Lotus Trading Ltd")
        page.fill("#legal-entity-form input[name=address_line1]", "1 Harbour Road")
        page.fill("#legal-entity-form input[name=city]", "Hong Kong")
        page.fill("#legal-entity-form input[name=country_code]", "hk")
        _submit(page, "#legal-entity-form")
        page.select_option("#tax-registration-form select[name=scheme]", "us_sales_tax")
        page.fill("#tax-registration-form input[name=country_code]", "US")
        page.fill("#tax-registration-form input[name=state]", "WA")
        page.fill("#tax-registration-form input[name=number]", "604-123-456")
        _submit(page, "#tax-registration-form")

        # A channel buffer rule for Amazon, with its preview
        page.goto(url + reverse("inventory:channel_rule_list", args=[tenant.slug]))
        page.select_option("#channel-rule-form select[name=channel]", "amazon_vendor")
        page.fill("#channel-rule-form input[name=allocation_percent]", "80")
        _submit(page, "#channel-rule-form")

        # The Amazon account, pointing at a running sandbox; test connection
        page.goto(url + reverse("channels:account_create", args=[tenant.slug]))
        account_form = "form:has(input[name=lwa_client_id])"
        page.fill(f"{account_form} input[name=name]", "Amazon US")
        page.select_option(f"{account_form} select[name=region]", "NA")
        page.fill(f"{account_form} input[name=marketplace_id]", "ATVPDKIKX0DER")
        page.fill(f"{account_form} [name=vendor_codes]", DEMO_VENDOR_CODE)
        page.select_option(f"{account_form} select[name=environment]", "local_sandbox")
        page.fill(f"{account_form} input[name=endpoint_override]", sandbox.base_url)
        page.fill(f"{account_form} input[name=lwa_client_id]", GRANT["client_id"])
        page.fill(f"{account_form} input[name=lwa_client_secret]", GRANT["client_secret"])
        page.fill(f"{account_form} [name=lwa_refresh_token]", GRANT["refresh_token"])
        page.fill(f"{account_form} input[name=ship_from-party_id]", "LOTUS")
        page.fill(f"{account_form} input[name=ship_from-name]", "Lotus Trading")
        page.fill(f"{account_form} input[name=ship_from-address_line1]", "1 Harbour Road")
        page.fill(f"{account_form} input[name=ship_from-city]", "Hong Kong")
        page.select_option(f"{account_form} select[name=ship_from-country_code]", "HK")
        _submit(page, account_form)
        with tenant_scope(tenant):
            account = AmazonVendorAccount.objects.get(tenant=tenant)
        page.goto(url + reverse("channels:account_edit", args=[tenant.slug, account.pk]))
        _submit(page, "form[action$='/test/']")
        with tenant_scope(tenant):
            account.refresh_from_db()
            assert account.last_connection_test_ok is True, account.last_connection_test_detail

        # Amazon places a PO (created now: its 24-hour clock runs); every
        # ASIN on it is mapped to the tenant's SKU on the mappings page
        (order,) = sandbox.state.generate(vendor_code=DEMO_VENDOR_CODE, count=1, days=0.01)
        for asin in sorted({line.asin for line in order.lines}):
            page.goto(url + reverse("channels:mapping_list", args=[tenant.slug]))
            mapping_form = "form[method=post]:has(input[name=asin])"
            page.select_option(f"{mapping_form} select[name=account]", str(account.pk))
            page.fill(f"{mapping_form} input[name=asin]", asin)
            page.fill(f"{mapping_form} input[name=sku]", "TEA-100")
            _submit(page, mapping_form)
        asin = order.lines[0].asin

        # The home page's checklist is complete: it is no longer shown
        page.goto(url + reverse("tenant_home", args=[tenant.slug]))
        todo = [item.get_attribute("data-step")
                for item in page.locator("#onboarding-checklist li.todo").all()]
        assert todo == [] and page.locator("#onboarding-checklist").count() == 0

        # The PO syncs in (the service the beat runs), and is acknowledged
        # from its review page
        with tenant_scope(tenant):
            run = purchase_orders_sync(tenant=tenant, account=account)
            assert run.status == "succeeded", run.error_message
            po = PurchaseOrder.objects.get(tenant=tenant, number=order.number)
        page.goto(url + reverse("channels:ack_review", args=[tenant.slug, po.pk]))
        with page.expect_navigation():
            page.click("button[name=send]")
        with tenant_scope(tenant):
            # The worker's send (queued after commit), run here in order
            for submission in Submission.objects.filter(tenant=tenant, status="queued"):
                submission_send(tenant=tenant, submission_id=submission.pk)
            po.refresh_from_db()
            assert po.ack_status in ("submitted", "accepted"), po.ack_status

        # A shipment of the accepted lines with cartons, then the ASN
        with tenant_scope(tenant):
            accepted = list(PurchaseOrderLine.objects.filter(
                tenant=tenant, purchase_order=po, planned_accept__gt=0))
        assert accepted
        page.goto(url + reverse("channels:shipment_create", args=[tenant.slug])
                  + f"?ship_to={po.ship_to_party_id}")
        for line in accepted:
            page.fill(f"input[name=qty_{line.pk}]", str(line.planned_accept))
            page.fill(f"input[name=coo_{line.pk}]", "CN")
        with page.expect_navigation():
            page.click("form[method=post]:has(input[name^=qty_]) button[type=submit]")
        page.wait_for_url("**/shipments/*/")
        with page.expect_navigation():
            page.click("button[name=ship]")
        with tenant_scope(tenant):
            shipment = Shipment.objects.get(tenant=tenant)
            assert shipment.cartons.exists()
            asn = Submission.objects.filter(tenant=tenant, document_type="shipment_confirmation")
            assert asn.exists(), list(Submission.objects.values_list("document_type", "status"))

        with tenant_scope(tenant):
            shipped = sum(line.planned_accept for line in accepted)
            assert StockLevel.objects.get(
                tenant=tenant, product_id=product_id).on_hand == 240 - shipped
            assert SkuMapping.objects.get(tenant=tenant, asin=asin).product.sku == "TEA-100"
            assert LegalEntity.objects.get(tenant=tenant).country_code == "HK"
            assert TaxRegistration.objects.get(tenant=tenant).number == "604-123-456"
            assert ChannelRule.objects.get(tenant=tenant).allocation_percent == 80
            assert Warehouse.objects.filter(tenant=tenant, code="SZX").exists()
            assert Supplier.objects.get(tenant=tenant, code="TEA-CO").lead_time_days == 21
            product = Product.objects.get(tenant=tenant, sku="TEA-100")
            assert product.supplier.code == "TEA-CO"
            assert InboundSupply.objects.get(tenant=tenant, reference="SPO-1").quantity == 120
    finally:
        page.screenshot(path=str(tmp_path / f"walk-{locale}.png"), full_page=True)
        founder.close()
