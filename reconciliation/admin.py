"""admin of the reconciliation app."""
