"""Reads of the invoicing app."""

from __future__ import annotations

from django.db.models import QuerySet

from invoicing.models import LegalEntity, TaxRegistration


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
