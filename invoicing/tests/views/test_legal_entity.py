"""The legal entity and its tax numbers, set by admins from the dashboard."""

import pytest
from django.urls import reverse

from acorn.models import AuditEntry, Role
from acorn.tenancy import tenant_scope
from invoicing.models import LegalEntity, TaxRegistration

ENTITY = {
    "legal_name": "Lotus Trading GmbH", "trading_name": "Lotus", "registration_number": "HRB 1",
    "address_line1": "Friedrichstraße 1", "address_line2": "", "city": "Berlin",
    "state_or_region": "", "postal_code": "10117", "country_code": "de",
    "email": "billing@lotus.example", "phone": "", "bank_name": "Bank",
    "iban": "DE89 3704 0044 0532 0130 00", "bic": "cobadeffxxx",
}


def _url(tenant):
    return reverse("invoicing:legal_entity", args=[tenant.slug])


@pytest.mark.django_db
def test_admin_saves_the_legal_entity_with_normalised_bank_details(member_client, tenant_a):
    admin = member_client(tenant_a, Role.ADMIN)
    assert admin.post(_url(tenant_a), ENTITY).status_code == 302
    with tenant_scope(tenant_a):
        entity = LegalEntity.objects.get()
        assert AuditEntry.objects.filter(summary="Legal entity saved").count() == 1
    assert (entity.country_code, entity.iban, entity.bic) == (
        "DE", "DE89370400440532013000", "COBADEFFXXX")
    # saved again: one row, updated
    assert admin.post(_url(tenant_a), {**ENTITY, "city": "Hamburg"}).status_code == 302
    with tenant_scope(tenant_a):
        assert LegalEntity.objects.get().city == "Hamburg"


@pytest.mark.django_db
def test_a_bad_iban_is_a_field_error_and_nothing_is_saved(member_client, tenant_a):
    admin = member_client(tenant_a, Role.ADMIN)
    response = admin.post(_url(tenant_a), {**ENTITY, "iban": "DE89 3704 0044 0532 0130 01"})
    assert response.status_code == 200
    assert "Not a valid IBAN" in response.content.decode()
    with tenant_scope(tenant_a):
        assert not LegalEntity.objects.exists()


@pytest.mark.django_db
def test_tax_numbers_are_validated_added_and_removed(member_client, tenant_a):
    admin = member_client(tenant_a, Role.ADMIN)
    response = admin.post(_url(tenant_a), {"add_registration": "1", "scheme": "eu_vat",
                                           "country_code": "DE", "number": "DE136695977"})
    assert response.status_code == 200
    assert "checksum" in response.content.decode()
    response = admin.post(_url(tenant_a), {"add_registration": "1", "scheme": "eu_vat",
                                           "country_code": "de", "number": "de 136695976"})
    assert response.status_code == 302
    admin.post(_url(tenant_a), {"add_registration": "1", "scheme": "us_sales_tax",
                                "country_code": "US", "state": "ca", "number": "SR-123"})
    with tenant_scope(tenant_a):
        numbers = sorted(TaxRegistration.objects.values_list("number", "state"))
    assert numbers == [("DE136695976", ""), ("SR-123", "CA")]
    page = admin.get(_url(tenant_a)).content.decode()
    assert "DE136695976" in page and "SR-123" in page
    # the same number twice is refused, not a 500
    response = admin.post(_url(tenant_a), {"add_registration": "1", "scheme": "eu_vat",
                                           "country_code": "DE", "number": "DE136695976"})
    assert response.status_code == 200 and "already exists" in response.content.decode()
    with tenant_scope(tenant_a):
        registration = TaxRegistration.objects.get(number="SR-123")
    admin.post(_url(tenant_a), {"remove_registration": registration.pk})
    with tenant_scope(tenant_a):
        assert TaxRegistration.objects.count() == 1
        assert AuditEntry.objects.filter(summary="Tax registration removed").exists()


@pytest.mark.django_db
def test_operations_cannot_see_or_change_the_legal_entity(member_client, tenant_a):
    ops = member_client(tenant_a, Role.OPERATIONS)
    assert ops.get(_url(tenant_a)).status_code == 403
    assert ops.post(_url(tenant_a), ENTITY).status_code == 403


@pytest.mark.django_db
def test_the_page_takes_a_fixed_number_of_queries(
    member_client, tenant_a, django_assert_max_num_queries
):
    admin = member_client(tenant_a, Role.ADMIN)
    for i in range(10):
        admin.post(_url(tenant_a), {"add_registration": "1", "scheme": "other",
                                    "country_code": "CN", "number": f"N-{i}"})
    # 10, plus the header bell's open-alert count (acorn.notifications context processor).
    with django_assert_max_num_queries(11):
        assert admin.get(_url(tenant_a)).status_code == 200
