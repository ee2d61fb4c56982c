"""tasks of the vendor_api app."""
