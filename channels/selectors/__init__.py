"""selectors of the channels app, one module per subdomain.

Import from the submodules directly. ``overview_cards`` is defined here
only because acorn/overview.py finds it by this dotted name.
"""


def overview_cards(*, tenant) -> list[dict]:
    from channels.selectors.overview import overview_cards as cards

    return cards(tenant=tenant)
