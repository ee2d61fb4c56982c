"""models of the reconciliation app."""
