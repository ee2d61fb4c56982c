"""views of the invoicing app."""
