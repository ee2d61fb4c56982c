"""Cross-tenant probes of the reconciliation app (see tests/isolation.py).
The deduction/dispute/return probes live in isolation_deductions.py."""

from reconciliation.tests.isolation_deductions import PROBES as DEDUCTION_PROBES

PROBES = dict(DEDUCTION_PROBES)
