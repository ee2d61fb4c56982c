"""Log-in, lockout, password rules and roles on dashboard pages."""

import pytest
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.urls import reverse

from acorn.models import AuditEntry, Role
from acorn.tenancy import tenant_scope
from acorn.tests.factories import TEST_PASSWORD, UserFactory


def test_passwords_shorter_than_twelve_are_rejected():
    with pytest.raises(ValidationError, match="at least 12 characters"):
        validate_password("Short1!pass")


@pytest.mark.django_db
def test_login_then_home_redirects_into_the_only_tenant(client, tenant_a):
    from acorn.models import Membership

    user = UserFactory()
    Membership.objects.create(tenant=tenant_a, user=user, role=Role.VIEWER)
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
    from acorn.models import Membership

    admin = member_client(tenant_a, Role.ADMIN)
    other = Membership.objects.create(tenant=tenant_a, user=UserFactory(), role=Role.VIEWER)
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
