"""selectors of the reconciliation app."""
