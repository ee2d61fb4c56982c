"""models of the inventory app."""
