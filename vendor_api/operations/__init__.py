"""SP-API operations, one module per API model, mixed into VendorApiClient."""
