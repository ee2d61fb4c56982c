"""selectors of the vendor_api app."""
