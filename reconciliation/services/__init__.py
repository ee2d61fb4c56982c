"""Writes of the reconciliation app (imports, matching, review decisions)."""

from reconciliation.services.imports import (  # noqa: F401
    RemittanceImportError,
    remittance_import_create,
    remittance_import_run,
)
from reconciliation.services.matching import (  # noqa: F401
    match_confirm,
    match_reassign,
    match_reject,
    payments_match,
)
