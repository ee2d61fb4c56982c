"""apis of the invoicing app."""
