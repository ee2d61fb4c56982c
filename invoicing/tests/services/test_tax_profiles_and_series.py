"""Tax profiles follow EN 16931's category rules; number series never go
back and keep one default per kind."""

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from acorn.exceptions import ConflictError
from acorn.models import AuditEntry
from invoicing.models import NumberSeries, TaxProfile
from invoicing.services import number_series_default
from invoicing.services.series import number_series_create, number_series_update
from invoicing.services.tax_profiles import (
    tax_profile_create,
    tax_profile_delete,
    tax_profile_update,
    tax_profiles_default_seed,
)
from invoicing.tests.factories import InvoiceFactory

pytestmark = pytest.mark.django_db

BASE = {"name": "DE", "marketplace_id": "A1PA6795UKMFR9", "ship_to_country": "DE",
        "category": "S", "rate": "19", "exemption_reason_code": "", "exemption_reason": "",
        "seller_tax_scheme": "eu_vat"}


@pytest.mark.parametrize(("changes", "field"), [
    ({"category": "S", "rate": "0"}, "rate"),
    ({"category": "S", "exemption_reason_code": "VATEX-EU-IC"}, "exemption_reason_code"),
    ({"category": "K", "rate": "0"}, "exemption_reason_code"),
    ({"category": "AE", "rate": "0"}, "exemption_reason_code"),
    ({"category": "K", "rate": "19", "exemption_reason_code": "VATEX-EU-IC"}, "rate"),
    ({"category": "Z", "rate": "7"}, "rate"),
    ({"category": "E", "rate": "0"}, "exemption_reason"),
    ({"category": "K", "rate": "0", "exemption_reason_code": "IC"}, "exemption_reason_code"),
    ({"ship_to_country": "Germany"}, "ship_to_country"),
    ({"seller_tax_scheme": "nonsense"}, "seller_tax_scheme"),
])
def test_invalid_profiles_are_refused_by_field(scope, changes, field):
    with pytest.raises(ValidationError) as error:
        tax_profile_create(tenant=scope, data={**BASE, **changes})
    assert field in error.value.message_dict
    assert not TaxProfile.objects.exists()


def test_profiles_are_created_changed_deleted_and_audited(scope):
    profile = tax_profile_create(tenant=scope, data=BASE)
    assert profile.rate == Decimal("19")
    with pytest.raises(ValidationError, match="already covers"):
        tax_profile_create(tenant=scope, data={**BASE, "name": "again"})
    profile = tax_profile_update(tenant=scope, profile_id=profile.pk,
                                 data={**BASE, "rate": "7"})
    assert profile.rate == Decimal("7")
    tax_profile_delete(tenant=scope, profile_id=profile.pk)
    assert not TaxProfile.objects.exists()
    assert AuditEntry.objects.filter(object_type__icontains="taxprofile").count() == 3


def test_a_profile_in_use_is_not_deleted(scope):
    profile = tax_profile_create(tenant=scope, data=BASE)
    InvoiceFactory(tenant=scope, tax_profile=profile)
    with pytest.raises(ConflictError):
        tax_profile_delete(tenant=scope, profile_id=profile.pk)


def test_default_set_is_seeded_once(scope):
    assert len(tax_profiles_default_seed(tenant=scope)) == 3
    assert tax_profiles_default_seed(tenant=scope) == []
    assert set(TaxProfile.objects.values_list("category", flat=True)) == {"O", "S", "K"}


def test_series_default_moves_and_next_number_is_not_editable(scope):
    inv = number_series_default(tenant=scope, kind="invoice")
    other = number_series_create(tenant=scope, code="INV2", kind="invoice", prefix="R-",
                                 padding=4, is_default=True)
    inv.refresh_from_db()
    assert other.is_default and not inv.is_default
    with pytest.raises(ValidationError, match="another series the default"):
        number_series_update(tenant=scope, series_id=other.pk, prefix="R-", padding=4,
                             is_default=False)
    NumberSeries.objects.filter(pk=other.pk).update(next_number=42)
    changed = number_series_update(tenant=scope, series_id=other.pk, prefix="RE-",
                                   padding=5, is_default=True)
    changed.refresh_from_db()
    assert (changed.prefix, changed.padding, changed.next_number) == ("RE-", 5, 42)
    with pytest.raises(ValidationError):
        number_series_create(tenant=scope, code="INV2", kind="invoice", prefix="X")
    with pytest.raises(ValidationError):
        number_series_update(tenant=scope, series_id=other.pk, prefix="bad prefix!",
                             padding=5, is_default=True)
