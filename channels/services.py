"""services of the channels app."""
