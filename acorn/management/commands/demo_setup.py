"""Seed the demo: a tenant, three logins (one per role), sample data.

Safe to re-run: everything is looked up before it is created. Each domain
app may add its own sample data through a ``<app>.demo.seed(tenant=...)``
function, found by name so the kernel imports no app.
"""

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils.module_loading import import_string

from acorn import services
from acorn.models import Role, Tenant, TenantAPIKey
from acorn.tenancy import tenant_scope

DEMO_TENANT_SLUG = "demo"
# A demo-only password, printed by `make demo`; production has no demo.
DEMO_PASSWORD = "acorn-demo-2026"  # noqa: S105
DEMO_USERS = [("admin", Role.ADMIN), ("ops", Role.OPERATIONS), ("viewer", Role.VIEWER)]
DEMO_SEEDERS = [
    "inventory.demo.seed",
    "channels.demo.seed",
    "channels.services.stores.demo.seed",
    "invoicing.demo.seed",
    "reconciliation.demo.seed",
]


class Command(BaseCommand):
    help = "Create or refresh the demo tenant, its logins and sample data."

    def add_arguments(self, parser):
        parser.add_argument("--url", default="http://127.0.0.1:8000/", help="Printed for the user.")

    def handle(self, *args, **options):
        with transaction.atomic():
            tenant = Tenant.objects.filter(slug=DEMO_TENANT_SLUG).first() or services.tenant_create(
                slug=DEMO_TENANT_SLUG, name="Demo Brand Co.", timezone="Asia/Shanghai"
            )
            user_model = get_user_model()
            for username, role in DEMO_USERS:
                user = user_model.objects.filter(username=username).first()
                if user is None:
                    user = services.user_create(username=username, password=DEMO_PASSWORD)
                    if role == Role.ADMIN:
                        user.is_staff = True
                        user.is_superuser = True
                        user.save(update_fields=["is_staff", "is_superuser"])
                services.membership_set(tenant=tenant, user=user, role=role)
            api_key_line = "existing key kept (create another in Settings > API keys)"
            with tenant_scope(tenant):
                has_key = TenantAPIKey.objects.filter(tenant=tenant, name="demo-bi").exists()
            if not has_key:
                _key, plaintext = services.api_key_create(tenant=tenant, name="demo-bi")
                api_key_line = plaintext
        for path in DEMO_SEEDERS:
            try:
                seed = import_string(path)
            except ImportError:
                continue
            with tenant_scope(tenant):
                seed(tenant=tenant)
        url = options["url"]
        self.stdout.write(
            self.style.SUCCESS("\nACORN demo is ready.\n")
            + f"  Dashboard:  {url}\n"
            + f"  Logins:     admin / ops / viewer, password {DEMO_PASSWORD}\n"
            + f"  API docs:   {url}api/docs/\n"
            + f"  BI API key: {api_key_line}\n"
        )
