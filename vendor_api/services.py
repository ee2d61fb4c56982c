"""services of the vendor_api app."""
