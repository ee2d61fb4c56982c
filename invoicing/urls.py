"""Dashboard and API routes of the invoicing app."""

from django.urls import path

from invoicing import views, views_documents

app_name = "invoicing"
urlpatterns: list = [
    path("settings/legal-entity/", views.LegalEntityView.as_view(), name="legal_entity"),
    # Documents (invoicing/views_documents.py).
    path("settings/documents/", views_documents.DocumentSettingsView.as_view(),
         name="document_settings"),
    path("invoices/<int:invoice_id>/documents/", views_documents.InvoiceDocumentsView.as_view(),
         name="invoice_documents"),
    path("invoices/<int:invoice_id>/documents/render/",
         views_documents.InvoiceRenderView.as_view(), name="invoice_render"),
    path("invoices/<int:invoice_id>/documents/<str:language>.pdf",
         views_documents.InvoicePdfView.as_view(), name="invoice_pdf"),
    path("invoices/<int:invoice_id>/documents/<str:language>.xml",
         views_documents.InvoiceXmlView.as_view(), name="invoice_xml"),
]
api_urlpatterns: list = []
