"""services of the reconciliation app."""
