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


# The words of each card the selectors report by code: (label, hint, how
# to show a parameter). The selectors return numbers and the page to open;
# the text and the links live here, with the wiring.
CARD_TEXT = {
    "purchase_orders_new": (_("New purchase orders"),
                            _("%(blocked)s blocked by unmapped lines"), {}),
    "exceptions_open": (_("Open exceptions"), _("Amazon channel work queue"), {}),
    "acknowledgements_waiting": (
        _("Acknowledgements waiting"),
        _("%(due)s due within 4 hours; %(troubled)s submissions need attention"), {},
    ),
    "secrets_to_rotate": (_("LWA client secrets to rotate"),
                          _("Amazon requires a new client secret every 180 days"), {}),
    "accounts_reauth_needed": (_("Accounts needing re-authorization"),
                               _("Syncs are paused until new credentials are saved"), {}),
    "api_health_idle": (_("Amazon API health: %(account)s"),
                        _("No calls in the last %(minutes)s minutes"), {}),
    "api_health": (
        _("Amazon API health: %(account)s"),
        _("%(calls)s calls in %(minutes)s min · 429 share %(throttled)s %% · p95 %(p95)s ms"),
        {"throttled": "{:g}", "p95": "{:.0f}"},
    ),
    "out_of_stock": (_("Out of stock"), _("Active products with none on hand"), {}),
    "promised": (_("Promised"), _("Products with holds or reservations"), {}),
    "to_order": (_("To order"), _("Purchase suggestions to review"), {}),
    "atp_changes_pending": (_("Stock changes to push"),
                            _("Products waiting for the channels to pick up"), {}),
    "invoices_draft": (_("Draft invoices"), _("%(blocked)s blocked by the pre-send check"), {}),
    "deductions_open": (_("Open deductions"),
                        _("%(closing)s dispute windows close within %(days)s days"), {}),
}


def card_present(card: dict, *, tenant) -> dict:
    """One card's data as the home page shows it: words, value, link."""
    label, hint, formats = CARD_TEXT[card["code"]]
    params = {
        name: formats[name].format(value) if name in formats else value
        for name, value in card.get("params", {}).items()
    }
    value = card["value"]
    if value is None:
        value = "–"
    elif card.get("unit") == "%":
        value = f"{value:g} %"
    kwargs = {"tenant_slug": tenant.slug, **card.get("url_kwargs", {})}
    url = reverse(card["url_name"], kwargs=kwargs)
    if card.get("query"):
        url = f"{url}?{card['query']}"
    return {"code": card["code"], "label": str(label) % params, "value": value,
            "hint": str(hint) % params, "url": url, "tone": card.get("tone", "")}


def cards_present(cards: list[dict], *, tenant) -> list[dict]:
    return [card_present(card, tenant=tenant) for card in cards]


def overview_cards(*, tenant) -> list[dict]:
    cards: list[dict] = []
    for path in OVERVIEW_SELECTORS:
        try:
            selector = import_string(path)
        except ImportError:
            continue
        cards.extend(selector(tenant=tenant))
    return cards_present(cards, tenant=tenant)


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
