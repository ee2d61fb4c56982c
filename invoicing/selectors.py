"""selectors of the invoicing app."""
