"""services of the invoicing app."""
