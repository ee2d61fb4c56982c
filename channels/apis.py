"""apis of the channels app."""
