"""tasks of the channels app."""
