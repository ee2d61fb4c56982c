"""Dashboard and API routes of the channels app."""

app_name = "channels"
urlpatterns: list = []
api_urlpatterns: list = []
