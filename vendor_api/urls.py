"""Dashboard and API routes of the vendor_api app."""

app_name = "vendor_api"
urlpatterns: list = []
api_urlpatterns: list = []
