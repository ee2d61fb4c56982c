"""models of the channels app."""
