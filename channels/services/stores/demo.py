"""Demo: a Shopify store in the local sandbox, connected with the demo
products. Idempotent; runs after ``channels.demo.seed`` (products, MAIN).

The connection is never tested here (the sandbox is not running yet when
``make demo`` seeds): the beat's first store sync does the first contact
(``connection_bootstrap``): reads the shop's locations, maps the first to
the one warehouse, imports and matches the listings, and the push follows.
Orders placed in the sandbox's store are read every minute and show as
reservations on the Stock and Holds pages.
"""

from __future__ import annotations

from django.conf import settings

from channels.models import StoreConnection
from channels.stores.demo_shop import DEMO_ACCESS_TOKEN, DEMO_SHOP, DEMO_WEBHOOK_SECRET

DEMO_STORE_NAME = "Demo Shopify store (sandbox)"


def seed(*, tenant) -> None:
    from channels.services.stores.connections import connection_create

    if StoreConnection.objects.filter(tenant=tenant, name=DEMO_STORE_NAME).exists():
        return
    connection_create(
        tenant=tenant, platform="shopify", name=DEMO_STORE_NAME,
        shop_url=f"{settings.ACORN_SANDBOX_URL.rstrip('/')}/shopify/{DEMO_SHOP}",
        secrets={"access_token": DEMO_ACCESS_TOKEN, "webhook_secret": DEMO_WEBHOOK_SECRET},
        order_poll_interval_minutes=1,
        reconcile_interval_minutes=30,
    )
