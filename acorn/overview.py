"""The home dashboard's cards.

Floor 4 wiring: reads each app's summary selector by dotted name, so the
kernel imports no domain app, and an app that has none yet is skipped.
"""

from __future__ import annotations

from django.utils.module_loading import import_string

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
