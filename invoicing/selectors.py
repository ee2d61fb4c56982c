"""Reads of the invoicing app."""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import NamedTuple

from django.db.models import Q, QuerySet
from django.db.models.functions import Upper

from invoicing.models import Invoice, InvoiceStatus, LegalEntity, TaxRegistration


def legal_entity_get(*, tenant) -> LegalEntity | None:
    return LegalEntity.objects.filter(tenant=tenant).first()


def tax_registration_list(*, tenant) -> QuerySet[TaxRegistration]:
    return TaxRegistration.objects.filter(tenant=tenant).order_by(
        "scheme", "country_code", "state", "id"
    )


def setup_status(*, tenant) -> dict[str, bool]:
    """Done-or-not of the invoicing step: a legal entity with a tax number."""
    return {
        "legal_entity": LegalEntity.objects.filter(tenant=tenant).exists()
        and TaxRegistration.objects.filter(tenant=tenant).exists(),
    }


# --- Reads for reconciliation (floor 3): plain data, no model instances. ---

class InvoiceForMatching(NamedTuple):
    id: int
    kind: str
    number: str
    purchase_order_number: str
    currency: str
    amount_due: Decimal
    issue_date: datetime.date | None
    payment_due_date: datetime.date | None
    account_id: int


_MATCHING_FIELDS = (
    "id", "kind", "number", "purchase_order_number", "currency", "amount_due",
    "issue_date", "payment_due_date", "account_id",
)
# Beyond this many numbers one read of all issued documents beats a huge
# IN list (PostgreSQL's 65,535 bind parameters bound it too).
_NUMBERS_IN_LIMIT = 5000


def invoice_list_for_matching(
    *, tenant, numbers=None, purchase_order_numbers=None, ids=None,
) -> list[InvoiceForMatching]:
    """Issued invoices and credit notes of ``tenant`` as plain tuples, for
    reconciliation's matching and open items. ``numbers`` (any case),
    ``purchase_order_numbers`` and ``ids`` narrow the read (a document
    matching any of them); none given reads every issued document. Long
    lists read every issued document instead: callers filter what they
    got, so this returns at least what was asked."""
    queryset = Invoice.objects.filter(tenant=tenant, status=InvoiceStatus.ISSUED)
    numbers = list(numbers) if numbers is not None else None
    pos = list(purchase_order_numbers) if purchase_order_numbers is not None else None
    ids = list(ids) if ids is not None else None
    narrowing = [x for x in (numbers, pos, ids) if x is not None]
    if narrowing and sum(len(x) for x in narrowing) <= _NUMBERS_IN_LIMIT:
        condition = Q(pk__in=[])
        if numbers:
            # Remittances write numbers in any case; issued numbers are
            # unique per tenant whatever the case in practice.
            queryset = queryset.annotate(number_upper=Upper("number"))
            condition |= Q(number_upper__in=[n.upper() for n in numbers])
        if pos:
            condition |= Q(purchase_order_number__in=pos)
        if ids:
            condition |= Q(pk__in=ids)
        queryset = queryset.filter(condition)
    rows = queryset.order_by("id").values_list(*_MATCHING_FIELDS)
    # No .iterator(): a server-side cursor opening a transaction would run
    # before the tenant setting is made (RLS would show nothing).
    return [InvoiceForMatching(*row) for row in rows]
