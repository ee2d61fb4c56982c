"""A remittance line's kind and base invoice number, from what it carries.

Patterns from vendor-domain.md §3 (wiki.amazowl.com's remittance SOP;
unverified against Amazon's own documentation, so unknown shapes become
"other", which the review queue shows, never a silent payment):

    <invoice>SC       shortage claim            <invoice>SCR    its reversal
    <invoice>SCRSC    revised shortage claim    <n>VCBSINV      chargeback debit note
    XXXX-XXXXXXXX     agreement invoice (co-op) IPAPUS+7 digits price protection
    X-PROVISION FOR RECEIVABLES (and ...R)      provision and its reversal
    plain number      invoice payment

Price claims (PQV/PPV, "PC" per amalytix' glossary) and returns (RTV) are
read from suffixes and from the description or type code.
"""

from __future__ import annotations

import re

from reconciliation.models import LineKind

_PROVISION = "PROVISION FOR RECEIVABLES"
_AGREEMENT_RE = re.compile(r"^\d{3,6}-\d{6,10}$")
_PRICE_PROTECTION_RE = re.compile(r"^IPAPUS\d{7}$")

# Suffix -> kind, longest first (SCRSC before SCR before SC).
SUFFIXES: list[tuple[str, str]] = [
    ("SCRSC", LineKind.SHORTAGE_CLAIM_REVISED),
    ("VCBSINV", LineKind.CHARGEBACK),
    ("SCR", LineKind.SHORTAGE_CLAIM_REVERSAL),
    ("PQV", LineKind.PRICE_CLAIM),
    ("PPV", LineKind.PRICE_CLAIM),
    ("RTV", LineKind.RETURN),
    ("SC", LineKind.SHORTAGE_CLAIM),
    ("PC", LineKind.PRICE_CLAIM),
]
# Kinds whose base number points at one of our invoices (the others, a
# chargeback's debit-note number or an agreement, name Amazon's documents).
INVOICE_LINKED = {
    LineKind.SHORTAGE_CLAIM, LineKind.SHORTAGE_CLAIM_REVERSAL,
    LineKind.SHORTAGE_CLAIM_REVISED, LineKind.PRICE_CLAIM, LineKind.RETURN,
    LineKind.INVOICE_PAYMENT,
}
_DESCRIPTION_WORDS: list[tuple[tuple[str, ...], str]] = [
    (("PROVISION FOR RECEIVABLES REVERSAL",), LineKind.PROVISION_REVERSAL),
    ((_PROVISION,), LineKind.PROVISION),
    (("PRICE PROTECTION",), LineKind.PRICE_PROTECTION),
    (("SHORTAGE",), LineKind.SHORTAGE_CLAIM),
    (("PQV", "PPV", "PRICE CLAIM", "PRICE DISCREPANCY"), LineKind.PRICE_CLAIM),
    (("CO-OP", "COOP", "CO OP", "ACCRUAL", "MARKETING DEVELOPMENT"), LineKind.COOP),
    (("CHARGEBACK", "DEBIT NOTE", "VCBSINV"), LineKind.CHARGEBACK),
    (("RTV", "RETURN"), LineKind.RETURN),
]


def line_classify(
    invoice_number: str, description: str = "", type_code: str = "",
) -> tuple[str, str]:
    """(kind, base invoice number) of a line. The base is the invoice the
    line refers to, "" when the pattern names no invoice of ours."""
    number = " ".join((invoice_number or "").upper().split())
    if _PROVISION in number:
        head, _, tail = number.partition(_PROVISION)
        base = head.rstrip(" -")
        if tail.strip() == "R":
            return LineKind.PROVISION_REVERSAL, base
        return LineKind.PROVISION, base
    if _PRICE_PROTECTION_RE.match(number):
        return LineKind.PRICE_PROTECTION, ""
    if _AGREEMENT_RE.match(number):
        return LineKind.COOP, ""
    compact = number.replace(" ", "")
    for suffix, kind in SUFFIXES:
        if compact.endswith(suffix) and len(compact) > len(suffix):
            base = compact[: -len(suffix)].rstrip("-_/")
            # A bare alphabetic word ending in "SC"/"PC" is not a claim.
            if not any(ch.isdigit() for ch in base):
                continue
            if kind == LineKind.CHARGEBACK:
                return kind, ""
            return kind, base
    words = f"{type_code} {description}".upper()
    for needles, kind in _DESCRIPTION_WORDS:
        if any(needle in words for needle in needles):
            return kind, compact if kind in INVOICE_LINKED else ""
    if compact and any(ch.isdigit() for ch in compact):
        return LineKind.INVOICE_PAYMENT, compact
    return LineKind.OTHER, ""
