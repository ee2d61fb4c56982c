"""admin of the vendor_api app."""
