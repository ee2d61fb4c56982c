"""admin of the channels app."""
