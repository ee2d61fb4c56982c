"""Dashboard and API routes of the invoicing app."""

from django.urls import path

from invoicing import apis, views

app_name = "invoicing"
urlpatterns: list = [
    path("settings/legal-entity/", views.LegalEntityView.as_view(), name="legal_entity"),
    path("settings/tax-profiles/", views.TaxProfileListView.as_view(), name="tax_profile_list"),
    path("settings/tax-profiles/<int:profile_id>/", views.TaxProfileEditView.as_view(),
         name="tax_profile_edit"),
    path("settings/number-series/", views.NumberSeriesListView.as_view(), name="series_list"),
    path("settings/number-series/<int:series_id>/", views.NumberSeriesEditView.as_view(),
         name="series_edit"),
    path("invoices/", views.InvoiceListView.as_view(), name="invoice_list"),
    path("invoices/from-shipments/", views.InvoiceBulkCreateView.as_view(),
         name="invoice_bulk"),
    path("invoices/<int:invoice_id>/", views.InvoiceDetailView.as_view(),
         name="invoice_detail"),
    path("invoices/<int:invoice_id>/check/", views.InvoiceCheckView.as_view(),
         name="invoice_check"),
    path("invoices/<int:invoice_id>/issue/", views.InvoiceIssueView.as_view(),
         name="invoice_issue"),
    path("invoices/<int:invoice_id>/credit-note/", views.CreditNoteCreateView.as_view(),
         name="credit_note_create"),
    path("credit-notes/", views.CreditNoteListView.as_view(), name="credit_note_list"),
    path("shipments/<int:shipment_id>/invoice/", views.InvoiceFromShipmentView.as_view(),
         name="invoice_from_shipment"),
]
api_urlpatterns: list = [
    path("invoices/", apis.InvoiceListApi.as_view(), name="invoice_list"),
    path("invoices/<int:invoice_id>/", apis.InvoiceDetailApi.as_view(), name="invoice_detail"),
    path("credit-notes/", apis.CreditNoteListApi.as_view(), name="credit_note_list"),
]
