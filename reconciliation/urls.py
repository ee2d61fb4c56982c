"""Dashboard and API routes of the reconciliation app."""

app_name = "reconciliation"
urlpatterns: list = []
api_urlpatterns: list = []
