"""tasks of the inventory app."""
