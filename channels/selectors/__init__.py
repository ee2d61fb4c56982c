"""selectors of the channels app, one module per subdomain.

Import from the submodules directly. ``overview_cards`` is defined here
only because acorn/overview.py finds it by this dotted name.
"""


def overview_cards(*, tenant) -> list[dict]:
    from channels.selectors.overview import overview_cards as cards

    return cards(tenant=tenant)


def setup_status(*, tenant) -> dict[str, bool]:
    """Which Amazon-side set-up steps are done (the home checklist)."""
    from channels.selectors.accounts import account_setup_status

    return account_setup_status(tenant=tenant)
