"""Dashboard and API routes of the invoicing app."""

from django.urls import path

from invoicing import views, views_submission

app_name = "invoicing"
urlpatterns: list = [
    path("settings/legal-entity/", views.LegalEntityView.as_view(), name="legal_entity"),
    path("invoices/<int:invoice_id>/submit/", views_submission.InvoiceSubmitView.as_view(),
         name="invoice_submit"),
    path("invoices/submit/", views_submission.InvoiceBulkSubmitView.as_view(),
         name="invoice_bulk_submit"),
]
api_urlpatterns: list = []
