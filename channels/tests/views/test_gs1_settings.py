"""GS1 settings from the dashboard: validated, audited, and what SSCCs use."""

import pytest
from django.urls import reverse

from acorn.models import AuditEntry, Role
from acorn.tenancy import tenant_scope
from channels.gs1 import gs1_is_valid
from channels.models import Gs1Settings
from channels.services.shipments import sscc_allocate


def _url(tenant):
    return reverse("channels:gs1_settings", args=[tenant.slug])


@pytest.mark.django_db
def test_admin_sets_the_prefix_and_the_next_ssccs_use_it(member_client, tenant_a):
    admin = member_client(tenant_a, Role.ADMIN)
    page = admin.get(_url(tenant_a))
    assert page.status_code == 200 and "next-sscc" not in page.content.decode()
    response = admin.post(_url(tenant_a), {"company_prefix": "0614141", "extension_digit": 3})
    assert response.status_code == 302
    page = admin.get(_url(tenant_a)).content.decode()
    assert "(00) 306141410000000" in page  # extension 3, prefix, serial 1, check digit
    with tenant_scope(tenant_a):
        ssccs = sscc_allocate(tenant=tenant_a, count=2)
        assert AuditEntry.objects.filter(summary="GS1 settings saved").count() == 1
    assert all(gs1_is_valid(s) and s.startswith("30614141") for s in ssccs)
    assert ssccs[0][-10:-1] == "000000001"


@pytest.mark.django_db
def test_bad_prefix_and_a_serial_going_back_are_refused(member_client, tenant_a):
    admin = member_client(tenant_a, Role.ADMIN)
    response = admin.post(_url(tenant_a), {"company_prefix": "12AB5", "extension_digit": 0})
    assert response.status_code == 200
    assert "6 to 12 digits" in response.content.decode()
    admin.post(_url(tenant_a), {"company_prefix": "0614141", "extension_digit": 0,
                                "next_serial": 500})
    response = admin.post(_url(tenant_a), {"company_prefix": "0614141", "extension_digit": 0,
                                           "next_serial": 10})
    assert response.status_code == 200
    assert "never reused" in response.content.decode()
    with tenant_scope(tenant_a):
        assert Gs1Settings.objects.get().next_serial == 500


@pytest.mark.django_db
def test_a_serial_too_long_for_the_prefix_is_refused(member_client, tenant_a):
    admin = member_client(tenant_a, Role.ADMIN)
    # A 12-digit prefix leaves 4 serial digits: 10,000 does not fit.
    response = admin.post(_url(tenant_a), {"company_prefix": "061414112345", "extension_digit": 0,
                                           "next_serial": 10_000})
    assert response.status_code == 200
    assert "does not fit" in response.content.decode()


@pytest.mark.django_db
@pytest.mark.parametrize("role", [Role.OPERATIONS, Role.VIEWER])
def test_only_admins_see_and_change_gs1_settings(member_client, tenant_a, role):
    client = member_client(tenant_a, role)
    assert client.get(_url(tenant_a)).status_code == 403
    assert client.post(_url(tenant_a), {"company_prefix": "0614141",
                                        "extension_digit": 0}).status_code == 403
