"""admin of the invoicing app."""
