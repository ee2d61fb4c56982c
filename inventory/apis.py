"""apis of the inventory app."""
