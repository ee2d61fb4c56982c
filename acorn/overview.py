"""The home dashboard: its cards and its page.

Floor 4 wiring: reads each app's summary selector by dotted name, so the
kernel imports no domain app, and an app that has none yet is skipped.
"""

from __future__ import annotations

from django.shortcuts import render
from django.utils.module_loading import import_string
from django.views import View

from acorn.views import TenantViewMixin

OVERVIEW_SELECTORS = [
    "channels.selectors.overview_cards",
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


class TenantHomeView(TenantViewMixin, View):
    """``/t/<slug>/``: every app's cards (here, on floor 4, because the
    basement's views may not import the wiring)."""

    def get(self, request, tenant_slug):
        return render(
            request, "acorn/tenant_home.html", {"cards": overview_cards(tenant=self.tenant)}
        )
