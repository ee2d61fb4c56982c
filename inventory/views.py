"""views of the inventory app."""
