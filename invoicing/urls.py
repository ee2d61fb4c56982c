"""Dashboard and API routes of the invoicing app."""

app_name = "invoicing"
urlpatterns: list = []
api_urlpatterns: list = []
