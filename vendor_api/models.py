"""models of the vendor_api app."""
