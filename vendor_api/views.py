"""views of the vendor_api app."""
