"""Dashboard and API routes of the inventory app."""

app_name = "inventory"
urlpatterns: list = []
api_urlpatterns: list = []
