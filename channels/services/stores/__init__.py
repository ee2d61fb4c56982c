"""Web-store channels (issue 12): connections, listings, the sync engine.

- ``connections``: create/update (secrets write-only), endpoint rule, test,
  location mapping, the adapter build;
- ``listings``: import, auto-match by SKU/GTIN, review;
- ``push``: outbox drain, batched compare-and-set / delta push, reconciliation;
- ``orders``: orders polled and received by webhook become reservations.
"""

from channels.services.stores.connections import (
    connection_adapter,
    connection_create,
    connection_get,
    connection_test,
    connection_update,
    location_mapping_set,
    store_url_problem,
)
from channels.services.stores.listings import (
    connection_bootstrap,
    listing_review,
    listings_import,
    listings_upsert,
    store_bootstrap_due,
)
from channels.services.stores.orders import (
    store_order_apply,
    store_orders_poll,
    store_orders_poll_due,
    store_webhook_pending_connections,
    webhook_receive,
    webhooks_process,
)
from channels.services.stores.push import (
    store_connection_push,
    store_connection_reconcile,
    store_outbox_drain,
    store_pending_connections,
    store_push_soon,
    store_reconcile_due,
    store_tenant_push,
)

__all__ = [
    "connection_bootstrap",
    "store_bootstrap_due",
    "connection_adapter",
    "connection_create",
    "connection_get",
    "connection_test",
    "connection_update",
    "listing_review",
    "listings_import",
    "listings_upsert",
    "location_mapping_set",
    "store_connection_push",
    "store_connection_reconcile",
    "store_order_apply",
    "store_orders_poll",
    "store_orders_poll_due",
    "store_outbox_drain",
    "store_pending_connections",
    "store_push_soon",
    "store_reconcile_due",
    "store_tenant_push",
    "store_url_problem",
    "store_webhook_pending_connections",
    "webhook_receive",
    "webhooks_process",
]
