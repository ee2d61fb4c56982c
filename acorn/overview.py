"""The home dashboard: its cards and its page.

Floor 4 wiring: reads each app's summary selector by dotted name, so the
kernel imports no domain app, and an app that has none yet is skipped.
"""

from __future__ import annotations

from django.shortcuts import render
from django.urls import reverse
from django.utils.module_loading import import_string
from django.utils.translation import gettext_lazy as _
from django.views import View

from acorn.models import Role
from acorn.views import TenantViewMixin

OVERVIEW_SELECTORS = [
    "channels.selectors.overview_cards",
    "channels.selectors.api_health.overview_cards",
    "inventory.selectors.overview_cards",
    "invoicing.selectors.overview_cards",
    "reconciliation.selectors.overview_cards",
]


def overview_cards(*, tenant) -> list[dict]:
    cards: list[dict] = []
    for path in OVERVIEW_SELECTORS:
        try:
            selector = import_string(path)
        except ImportError:
            continue
        cards.extend(selector(tenant=tenant))
    return cards


# The home page checklist of a tenant that is not fully set up: what must
# be in place before the first PO can be acknowledged, shipped and
# invoiced, in the order a new brand does it. Each app reports its steps'
# state through ``<app>.selectors.setup_status``; the labels and links
# live here, with the wiring.
SETUP_SELECTORS = [
    "inventory.selectors.setup_status",
    "channels.selectors.setup_status",
    "invoicing.selectors.setup_status",
]
SETUP_STEPS = [
    ("warehouse", _("Add a warehouse"), "inventory:warehouse_list", Role.ADMIN),
    ("stock_loaded", _("Import products and load stock"), "inventory:product_import",
     Role.OPERATIONS),
    ("amazon_account_tested", _("Connect an Amazon vendor account and test it"),
     "channels:account_list", Role.ADMIN),
    ("skus_mapped", _("Map Amazon ASINs to your SKUs"), "channels:mapping_list", Role.ADMIN),
    ("gs1_prefix", _("Set your GS1 company prefix for carton labels"),
     "channels:gs1_settings", Role.ADMIN),
    ("legal_entity", _("Enter your legal entity and a tax number for invoices"),
     "invoicing:legal_entity", Role.ADMIN),
]


def onboarding_checklist(*, tenant, membership) -> list[dict]:
    """The set-up steps with their state; empty once every step is done."""
    done: dict[str, bool] = {}
    for path in SETUP_SELECTORS:
        done.update(import_string(path)(tenant=tenant))
    if all(done.get(code, False) for code, *_rest in SETUP_STEPS):
        return []
    steps = []
    for code, label, url_name, role in SETUP_STEPS:
        url = (
            reverse(url_name, kwargs={"tenant_slug": tenant.slug})
            if membership.allows(role) else ""
        )
        steps.append({"code": code, "label": label, "done": done.get(code, False), "url": url})
    return steps


class TenantHomeView(TenantViewMixin, View):
    """``/t/<slug>/``: every app's cards and, until the tenant is set up,
    its checklist (here, on floor 4, because the basement's views may not
    import the wiring)."""

    def get(self, request, tenant_slug):
        context = {
            "cards": overview_cards(tenant=self.tenant),
            "checklist": onboarding_checklist(tenant=self.tenant, membership=request.membership),
        }
        return render(request, "acorn/tenant_home.html", context)
