"""Log-in, lockout, password rules and roles on dashboard pages."""

import pytest
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.urls import reverse

from acorn.models import AuditEntry, Role
from acorn.tenancy import tenant_scope
from acorn.tests.factories import TEST_PASSWORD, UserFactory, membership_create


def test_passwords_shorter_than_twelve_are_rejected():
    with pytest.raises(ValidationError, match="at least 12 characters"):
        validate_password("Short1!pass")


@pytest.mark.django_db
def test_login_then_home_redirects_into_the_only_tenant(client, tenant_a):
    user = UserFactory()
    membership_create(tenant=tenant_a, user=user, role=Role.VIEWER)
    response = client.post(
        reverse("login"), {"username": user.username, "password": TEST_PASSWORD}, follow=True
    )
    assert response.status_code == 200
    assert response.redirect_chain[-1][0] == reverse("tenant_home", args=[tenant_a.slug])


@pytest.mark.django_db
def test_lockout_after_five_failures_even_with_the_right_password(client, tenant_a):
    user = UserFactory()
    for _ in range(5):
        client.post(reverse("login"), {"username": user.username, "password": "wrong-password-x"})
    response = client.post(reverse("login"), {"username": user.username, "password": TEST_PASSWORD})
    assert response.status_code == 429
    assert b"Too many failed log-in attempts" in response.content


@pytest.mark.django_db
def test_anonymous_user_is_sent_to_login(client, tenant_a):
    url = reverse("tenant_home", args=[tenant_a.slug])
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("role", "status"), [(Role.VIEWER, 403), (Role.OPERATIONS, 403), (Role.ADMIN, 200)]
)
def test_admin_pages_need_the_admin_role(member_client, tenant_a, role, status):
    client = member_client(tenant_a, role)
    for name in ("audit_log", "member_list", "api_key_list"):
        assert client.get(reverse(name, args=[tenant_a.slug])).status_code == status


@pytest.mark.django_db
def test_viewer_reads_overview(member_client, tenant_a):
    client = member_client(tenant_a, Role.VIEWER)
    assert client.get(reverse("tenant_home", args=[tenant_a.slug])).status_code == 200


@pytest.mark.django_db
def test_role_change_is_audited_with_before_and_after(member_client, tenant_a):
    admin = member_client(tenant_a, Role.ADMIN)
    other = membership_create(tenant=tenant_a, user=UserFactory(), role=Role.VIEWER)
    response = admin.post(
        reverse("member_list", args=[tenant_a.slug]),
        {"membership_id": other.pk, "role": Role.OPERATIONS},
    )
    assert response.status_code == 302
    with tenant_scope(tenant_a):
        entry = AuditEntry.objects.get(object_type="acorn.Membership", action="update")
    assert (entry.before, entry.after) == ({"role": "viewer"}, {"role": "operations"})
    assert entry.actor == admin.user


@pytest.mark.django_db
def test_api_key_is_shown_once_and_audited_without_the_secret(member_client, tenant_a):
    admin = member_client(tenant_a, Role.ADMIN)
    response = admin.post(reverse("api_key_list", args=[tenant_a.slug]), {"name": "Looker"})
    assert response.status_code == 200
    plaintext = response.context["new_key"]
    assert plaintext and plaintext.encode() in response.content
    # A second look shows the prefix only.
    again = admin.get(reverse("api_key_list", args=[tenant_a.slug]))
    assert plaintext.encode() not in again.content
    with tenant_scope(tenant_a):
        entry = AuditEntry.objects.get(object_type="acorn.TenantAPIKey")
    assert plaintext not in str(entry.after) and entry.after["name"] == "Looker"


@pytest.mark.django_db
def test_audit_log_page_lists_entries(member_client, tenant_a):
    admin = member_client(tenant_a, Role.ADMIN)
    admin.post(reverse("api_key_list", args=[tenant_a.slug]), {"name": "Metabase"})
    page = admin.get(reverse("audit_log", args=[tenant_a.slug]))
    assert b"Metabase" in page.content


def test_audit_snapshot_redacts_secret_fields():
    from acorn.models import TenantAPIKey
    from acorn.services import REDACTED, audit_snapshot

    key = TenantAPIKey(name="k", hashed_key="pbkdf2$secret-hash", prefix="abc")
    snapshot = audit_snapshot(key)
    assert snapshot["hashed_key"] == REDACTED
    assert "secret-hash" not in str(snapshot)


@pytest.mark.django_db
def test_language_switch_to_simplified_chinese(member_client, tenant_a):
    client = member_client(tenant_a, Role.ADMIN)
    client.post(reverse("set_language"), {"language": "zh-hans", "next": "/"})
    page = client.get(reverse("tenant_home", args=[tenant_a.slug]))
    assert page.status_code == 200
    assert 'lang="zh-hans"' in page.content.decode()
    assert "概览" in page.content.decode()


@pytest.mark.django_db
def test_tenant_switcher_lists_the_users_tenants_and_no_other(client, tenant_a, tenant_b):
    """Memberships are read through the signed-in user's RLS key: the
    switcher shows the user's two tenants, not a third they are not in."""
    from acorn.tests.factories import TenantFactory

    user = UserFactory()
    membership_create(tenant=tenant_a, user=user, role=Role.ADMIN)
    membership_create(tenant=tenant_b, user=user, role=Role.VIEWER)
    membership_create(tenant=TenantFactory(slug="charlie", name="Charlie Co"), user=UserFactory())
    client.force_login(user)
    page = client.get(reverse("tenant_home", args=[tenant_a.slug])).content.decode()
    assert 'id="tenant-switcher"' in page
    assert "Alpha Brand" in page and "Bravo Brand" in page
    assert "Charlie Co" not in page
    assert client.get(reverse("tenant_home", args=["charlie"])).status_code == 404


@pytest.mark.django_db
def test_members_page_lists_every_member_of_the_tenant(member_client, tenant_a, tenant_b):
    admin = member_client(tenant_a, Role.ADMIN)
    colleague = UserFactory(username="colleague")
    membership_create(tenant=tenant_a, user=colleague)
    membership_create(tenant=tenant_b, user=UserFactory(username="stranger"))
    page = admin.get(reverse("member_list", args=[tenant_a.slug])).content.decode()
    assert "colleague" in page
    assert "stranger" not in page


@pytest.mark.django_db
def test_platform_staff_bootstrap_a_tenant_admin_in_django_admin(client, tenant_a):
    """The tenant's admin page opens in its scope: staff see its members
    and keys and add its first admin, though RLS guards those rows."""
    from django.contrib.auth import get_user_model

    from acorn.models import Membership
    from acorn.services import api_key_create
    from acorn.tenancy import tenant_scope

    staff = get_user_model().objects.create_superuser("platform", "p@example.com", "x" * 16)
    first_admin = UserFactory(username="first-admin")
    api_key_create(tenant=tenant_a, name="Looker")
    client.force_login(staff)
    url = reverse("admin:acorn_tenant_change", args=[tenant_a.pk])
    page = client.get(url)
    assert page.status_code == 200
    assert "Looker" in page.content.decode()
    form = {
        "slug": tenant_a.slug,
        "name": tenant_a.name,
        "timezone": "UTC",
        "default_currency": "USD",
        "data_retention_days": 90,
        "is_active": "on",
        "memberships-TOTAL_FORMS": "1",
        "memberships-INITIAL_FORMS": "0",
        "memberships-0-user": str(first_admin.pk),
        "memberships-0-role": Role.ADMIN,
        "api_keys-TOTAL_FORMS": "1",
        "api_keys-INITIAL_FORMS": "1",
        "api_keys-0-id": page.context["inline_admin_formsets"][1].formset.forms[0].instance.pk,
        "api_keys-0-tenant": str(tenant_a.pk),
    }
    response = client.post(url, form)
    assert response.status_code == 302, response.context and [
        f.errors for f in response.context["inline_admin_formsets"][0].formset.forms
    ]
    with tenant_scope(tenant_a):
        membership = Membership.objects.get(user=first_admin)
    assert membership.role == Role.ADMIN
    client.force_login(first_admin)
    assert client.get(reverse("member_list", args=[tenant_a.slug])).status_code == 200


@pytest.mark.django_db
def test_platform_staff_create_a_tenant_with_its_first_admin(client):
    from django.contrib.auth import get_user_model

    from acorn.models import Membership, Tenant
    from acorn.tenancy import tenant_scope

    staff = get_user_model().objects.create_superuser("platform", "p@example.com", "x" * 16)
    first_admin = UserFactory(username="founder")
    client.force_login(staff)
    assert client.get(reverse("admin:acorn_tenant_add")).status_code == 200
    response = client.post(
        reverse("admin:acorn_tenant_add"),
        {
            "slug": "delta",
            "name": "Delta Goods",
            "timezone": "UTC",
            "default_currency": "EUR",
            "data_retention_days": 90,
            "is_active": "on",
            "memberships-TOTAL_FORMS": "1",
            "memberships-INITIAL_FORMS": "0",
            "memberships-0-user": str(first_admin.pk),
            "memberships-0-role": Role.ADMIN,
            "api_keys-TOTAL_FORMS": "0",
            "api_keys-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 302
    tenant = Tenant.objects.get(slug="delta")
    with tenant_scope(tenant):
        assert Membership.objects.get(user=first_admin).role == Role.ADMIN
