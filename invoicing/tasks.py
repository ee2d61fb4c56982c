"""tasks of the invoicing app."""
