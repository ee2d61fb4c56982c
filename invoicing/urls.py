"""Dashboard and API routes of the invoicing app."""

from django.urls import path

from invoicing import views

app_name = "invoicing"
urlpatterns: list = [
    path("settings/legal-entity/", views.LegalEntityView.as_view(), name="legal_entity"),
]
api_urlpatterns: list = []
