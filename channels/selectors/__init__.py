"""selectors of the channels app, one module per subdomain.

Import from the submodules directly. ``overview_cards`` and
``setup_status`` are named here only because acorn/overview.py finds them
by these dotted names.
"""

from channels.selectors.accounts import account_setup_status as setup_status
from channels.selectors.overview import overview_cards

__all__ = ["overview_cards", "setup_status"]
