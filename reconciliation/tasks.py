"""tasks of the reconciliation app."""
