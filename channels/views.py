"""views of the channels app."""
