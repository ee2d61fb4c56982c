"""admin of the inventory app."""
