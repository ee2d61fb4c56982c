"""Every write of the invoicing app; see the submodules by subdomain.

The public API other apps call is re-exported here.
"""

from invoicing.services.issue import invoice_issue, invoice_recalculate, number_series_default
from invoicing.services.legal_entity import (
    LEGAL_ENTITY_FIELDS,
    legal_entity_set,
    tax_number_normalise,
    tax_registration_add,
    tax_registration_remove,
)
from invoicing.services.submission import (
    invoice_payload_build,
    invoice_submit,
    invoices_submit,
)
from invoicing.services.totals import DocumentTotals, totals_compute

__all__ = [
    "LEGAL_ENTITY_FIELDS",
    "DocumentTotals",
    "invoice_issue",
    "invoice_payload_build",
    "invoice_recalculate",
    "invoice_submit",
    "invoices_submit",
    "legal_entity_set",
    "number_series_default",
    "tax_number_normalise",
    "tax_registration_add",
    "tax_registration_remove",
    "totals_compute",
]
