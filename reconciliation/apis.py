"""apis of the reconciliation app."""
