"""apis of the vendor_api app."""
