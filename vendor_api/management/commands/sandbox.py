"""``manage.py sandbox --port 8100``: the local Amazon (SP-API + LWA) and mounted sandboxes."""

from django.core.management.base import BaseCommand

from vendor_api.sandbox.server import SandboxServer
from vendor_api.sandbox.state import (
    DEFAULT_SEED,
    DEMO_PURCHASE_ORDERS,
    DEMO_VENDOR_CODE,
    SandboxState,
)


class Command(BaseCommand):
    help = "Run the Amazon SP-API/LWA sandbox (and ACORN_SANDBOX_MOUNTS) over HTTP."

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8100)
        parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
        parser.add_argument("--purchase-orders", type=int, default=DEMO_PURCHASE_ORDERS)
        parser.add_argument(
            "--new-order-every", type=float, default=0, metavar="SECONDS",
            help="Place a new PO for the demo vendor every SECONDS (0: never).",
        )

    def handle(self, *args, host, port, seed, purchase_orders, new_order_every, **options):
        state = SandboxState(seed=seed, purchase_orders=purchase_orders)
        if new_order_every > 0:
            state.new_orders_start(vendor_code=DEMO_VENDOR_CODE, every_seconds=new_order_every)
        server = SandboxServer(host=host, port=port, state=state)
        self.stdout.write(f"Amazon sandbox on {server.base_url} (LWA at /auth/o2/token)")
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            pass
        finally:
            server.httpd.server_close()
