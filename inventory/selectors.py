"""selectors of the inventory app."""
