"""selectors of the channels app."""
