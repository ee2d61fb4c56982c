"""models of the invoicing app."""
