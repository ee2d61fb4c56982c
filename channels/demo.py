"""Demo data: a local-sandbox Amazon account whose POs flow in within a
minute once the worker, beat and sandbox run. Idempotent.

The sandbox's DEMO1 catalog is drawn from its default seed, so the same
40 ASINs come back every time; each gets a product (with stock) and a
SKU mapping here, through inventory's and channels' services.
"""

from __future__ import annotations

import random

from django.conf import settings

from channels.models import AccountEnvironment, AmazonVendorAccount, Gs1Settings, SkuMapping
from vendor_api.sandbox.generator import demo_catalog
from vendor_api.sandbox.state import (
    DEFAULT_SEED,
    DEMO_CLIENT_ID,
    DEMO_CLIENT_SECRET,
    DEMO_REFRESH_TOKEN,
    DEMO_VENDOR_CODE,
)

DEMO_ACCOUNT_NAME = "Amazon US (sandbox)"
DEMO_WAREHOUSE = "MAIN"
DEMO_STOCK = 500


def seed(*, tenant) -> None:
    from channels.services.accounts import account_create
    from channels.services.mappings import mapping_create
    from inventory.selectors import product_list, warehouse_list
    from inventory.services import product_create, stock_receive, warehouse_create

    if not Gs1Settings.objects.filter(tenant=tenant).exists():
        gs1 = Gs1Settings(tenant=tenant, company_prefix="0614141")
        gs1.full_clean(exclude=["tenant"])
        gs1.save()
    account = AmazonVendorAccount.objects.filter(tenant=tenant, name=DEMO_ACCOUNT_NAME).first()
    if account is None:
        account = account_create(
            tenant=tenant, name=DEMO_ACCOUNT_NAME, region="NA", marketplace_id="ATVPDKIKX0DER",
            environment=AccountEnvironment.LOCAL_SANDBOX,
            endpoint_override=getattr(settings, "ACORN_SANDBOX_URL", "http://127.0.0.1:8001"),
            vendor_codes=[DEMO_VENDOR_CODE],
            ship_from={"partyId": DEMO_VENDOR_CODE, "address": {
                "name": "ACORN Demo Warehouse", "addressLine1": "1 Demo Street",
                "city": "Allentown", "stateOrRegion": "PA", "postalCode": "18101",
                "countryCode": "US"}},
            lwa_client_id=DEMO_CLIENT_ID, lwa_client_secret=DEMO_CLIENT_SECRET,
            lwa_refresh_token=DEMO_REFRESH_TOKEN, poll_interval_minutes=1,
            initial_lookback_days=30,
        )
    warehouse = warehouse_list(tenant=tenant).filter(code=DEMO_WAREHOUSE).first()
    if warehouse is None:
        warehouse = warehouse_create(tenant=tenant, code=DEMO_WAREHOUSE, name="Main warehouse",
                                     country="US")
    catalog = demo_catalog(rng=random.Random(DEFAULT_SEED))
    mapped = set(SkuMapping.objects.filter(tenant=tenant, account=account)
                 .values_list("asin", flat=True))
    products = {p.sku: p for p in product_list(tenant=tenant)}
    for index, item in enumerate(catalog):
        product = products.get(item.vendor_sku)
        if product is None:
            product = product_create(tenant=tenant, sku=item.vendor_sku,
                                     name=f"Demo product {index + 1}", asin=item.asin)
            # A few products run short so acknowledgements show backorders.
            stock = DEMO_STOCK if index % 5 else 20
            stock_receive(tenant=tenant, product=product, warehouse=warehouse, quantity=stock,
                          idempotency_key=f"demo-stock-{item.vendor_sku}",
                          reason="Demo opening stock")
        if item.asin not in mapped:
            mapping_create(tenant=tenant, account=account, asin=item.asin,
                           vendor_product_id=item.vendor_sku, product=product)
