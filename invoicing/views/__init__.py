"""Dashboard pages of the invoicing app, one module per subdomain."""

from invoicing.views.documents import (
    CreditNoteCreateView,
    CreditNoteListView,
    InvoiceBulkCreateView,
    InvoiceCheckView,
    InvoiceDetailView,
    InvoiceFromShipmentView,
    InvoiceIssueView,
    InvoiceListView,
)
from invoicing.views.legal_entity import LegalEntityView
from invoicing.views.settings import (
    NumberSeriesEditView,
    NumberSeriesListView,
    TaxProfileEditView,
    TaxProfileListView,
)

__all__ = [
    "CreditNoteCreateView",
    "CreditNoteListView",
    "InvoiceBulkCreateView",
    "InvoiceCheckView",
    "InvoiceDetailView",
    "InvoiceFromShipmentView",
    "InvoiceIssueView",
    "InvoiceListView",
    "LegalEntityView",
    "NumberSeriesEditView",
    "NumberSeriesListView",
    "TaxProfileEditView",
    "TaxProfileListView",
]
