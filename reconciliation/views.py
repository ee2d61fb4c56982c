"""views of the reconciliation app."""
