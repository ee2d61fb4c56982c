"""Every write of the invoicing app; see the submodules by subdomain.

The public API other apps call is re-exported here.
"""

from invoicing.services.checks import finding_text, invoice_check, invoice_issue_checked
from invoicing.services.credit_notes import credit_note_create
from invoicing.services.drafts import (
    invoice_draft_from_shipment,
    invoices_draft_bulk,
    invoices_from_shipment,
)
from invoicing.services.issue import invoice_issue, invoice_recalculate, number_series_default
from invoicing.services.legal_entity import (
    LEGAL_ENTITY_FIELDS,
    legal_entity_set,
    tax_number_normalise,
    tax_registration_add,
    tax_registration_remove,
)
from invoicing.services.totals import DocumentTotals, totals_compute

__all__ = [
    "LEGAL_ENTITY_FIELDS",
    "DocumentTotals",
    "credit_note_create",
    "finding_text",
    "invoice_check",
    "invoice_draft_from_shipment",
    "invoice_issue_checked",
    "invoices_draft_bulk",
    "invoices_from_shipment",
    "invoice_issue",
    "invoice_recalculate",
    "legal_entity_set",
    "number_series_default",
    "tax_number_normalise",
    "tax_registration_add",
    "tax_registration_remove",
    "totals_compute",
]
