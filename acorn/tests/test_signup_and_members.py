"""Sign-up with e-mail confirmation, invitations, member removal, and
platform staff disabling a tenant: over the real pages, PostgreSQL with
row-level security, and Django's mail outbox."""

import re
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from acorn.models import AuditEntry, Invitation, Membership, Role, Tenant
from acorn.services import api_key_create
from acorn.tenancy import tenant_scope
from acorn.tests.factories import TEST_PASSWORD, UserFactory, membership_create

NEW_PASSWORD = "a long and new pass phrase 7"  # noqa: S105


def _link_in(message) -> str:
    match = re.search(r"https?://testserver(/\S+)", message.body)
    assert match, message.body
    return match.group(1)


def _signup(client, *, company="Lotus Trading", email="Founder@Lotus.example"):
    return client.post(
        reverse("signup"),
        {
            "company_name": company,
            "email": email,
            "password": NEW_PASSWORD,
            "password_confirm": NEW_PASSWORD,
        },
    )


@pytest.mark.django_db
def test_signup_confirms_the_address_then_lands_in_the_new_tenant_as_admin(client):
    # given a company that signs up
    response = _signup(client)
    assert response.status_code == 302
    assert response["Location"] == reverse("signup_sent")
    # then nobody can log in before the address is confirmed
    user = get_user_model().objects.get(username="founder@lotus.example")
    assert user.is_active is False
    refused = client.post(
        reverse("login"), {"username": "founder@lotus.example", "password": NEW_PASSWORD}
    )
    assert refused.status_code == 200  # the form again, not a redirect in
    # when the e-mailed link is opened and confirmed
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["founder@lotus.example"]
    link = _link_in(mail.outbox[0])
    assert client.get(link).status_code == 200
    response = client.post(link, follow=True)
    # then the founder is logged in, inside the new tenant, as its admin
    tenant = Tenant.objects.get(name="Lotus Trading")
    assert response.redirect_chain[-1][0] == reverse("tenant_home", args=[tenant.slug])
    with tenant_scope(tenant):
        membership = Membership.objects.get(tenant=tenant)
    assert membership.role == Role.ADMIN
    assert client.get(reverse("member_list", args=[tenant.slug])).status_code == 200
    with tenant_scope(tenant):
        assert AuditEntry.objects.filter(summary="Tenant signed up").count() == 1
    # and the link does not work a second time
    client.logout()
    assert client.post(link).status_code == 404


@pytest.mark.django_db
def test_signup_refuses_a_known_address_and_a_weak_password_and_keeps_nothing(client):
    UserFactory(username="taken@example.com", email="taken@example.com")
    response = _signup(client, email="TAKEN@example.com")
    assert response.status_code == 200
    assert "already exists" in response.content.decode()
    response = client.post(
        reverse("signup"),
        {
            "company_name": "Weak Co",
            "email": "weak@example.com",
            "password": "password",
            "password_confirm": "password",
        },
    )
    assert response.status_code == 200
    assert "at least 12 characters" in response.content.decode()
    assert not Tenant.objects.filter(name__in=["Lotus Trading", "Weak Co"]).exists()
    assert mail.outbox == []


@pytest.mark.django_db
def test_signup_gives_unique_slugs_even_for_chinese_company_names(client):
    _signup(client, company="深圳蓝海贸易有限公司", email="a@example.com")
    _signup(client, company="深圳蓝海贸易有限公司", email="b@example.com")
    slugs = sorted(
        Tenant.objects.filter(name="深圳蓝海贸易有限公司").values_list("slug", flat=True)
    )
    assert slugs == ["brand", "brand-2"]


@pytest.mark.django_db
def test_a_tampered_or_expired_confirmation_link_is_refused(client, settings):
    _signup(client)
    link = _link_in(mail.outbox[0])
    assert client.post(link[:-3] + "xyz/").status_code == 404
    settings.PASSWORD_RESET_TIMEOUT = -1  # every token is already expired
    response = client.post(link)
    assert response.status_code == 404
    assert "invalid or has expired" in response.content.decode()


@pytest.mark.django_db
def test_resend_answers_the_same_for_known_and_unknown_addresses(client):
    _signup(client)
    mail.outbox.clear()
    known = client.post(reverse("signup_sent"), {"email": "founder@lotus.example"})
    unknown = client.post(reverse("signup_sent"), {"email": "nobody@example.com"})
    assert known.content.decode().count("a new link is on its way") == 1
    assert unknown.content.decode().count("a new link is on its way") == 1
    assert [m.to for m in mail.outbox] == [["founder@lotus.example"]]


@pytest.mark.django_db
def test_signup_can_be_switched_off(client, settings):
    settings.ACORN_SIGNUP_ENABLED = False
    assert client.get(reverse("signup")).status_code == 404
    assert "signup-link" not in client.get(reverse("login")).content.decode()


@pytest.fixture
def invite(django_capture_on_commit_callbacks):
    """Post the invite form; the e-mail leaves after commit, as in a request."""

    def post(admin_client, tenant, email="colleague@example.com", role=Role.OPERATIONS):
        with django_capture_on_commit_callbacks(execute=True):
            return admin_client.post(
                reverse("member_list", args=[tenant.slug]),
                {"invite": "1", "email": email, "role": role},
            )

    return post


@pytest.mark.django_db
def test_an_invited_colleague_creates_an_account_and_joins_with_the_role(
    member_client, tenant_a, client, invite
):
    admin = member_client(tenant_a, Role.ADMIN)
    response = invite(admin, tenant_a)
    assert response.status_code == 302
    assert len(mail.outbox) == 1
    link = _link_in(mail.outbox[0])
    with tenant_scope(tenant_a):
        invitation = Invitation.objects.get()
        assert invitation.token_hash not in link  # only the hash is stored
    admin.logout()
    assert client.get(link).status_code == 200
    response = client.post(
        link, {"password": NEW_PASSWORD, "password_confirm": NEW_PASSWORD}, follow=True
    )
    assert response.redirect_chain[-1][0] == reverse("tenant_home", args=[tenant_a.slug])
    with tenant_scope(tenant_a):
        membership = Membership.objects.get(tenant=tenant_a, user__username="colleague@example.com")
    assert membership.role == Role.OPERATIONS
    # used once only
    client.logout()
    assert client.get(link).status_code == 404


@pytest.mark.django_db
def test_an_existing_user_accepts_only_when_logged_in_with_the_invited_address(
    member_client, tenant_a, client, invite
):
    admin = member_client(tenant_a, Role.ADMIN)
    existing = UserFactory(username="known@example.com", email="known@example.com")
    invite(admin, tenant_a, email="known@example.com", role=Role.VIEWER)
    link = _link_in(mail.outbox[0])
    admin.logout()
    assert "Log in to accept" in client.get(link).content.decode()
    stranger = UserFactory(email="stranger@example.com")
    client.force_login(stranger)
    assert client.post(link).status_code == 403
    with tenant_scope(tenant_a):
        assert not Membership.objects.filter(tenant=tenant_a, user=stranger).exists()
    client.force_login(existing)
    assert client.post(link).status_code == 302
    with tenant_scope(tenant_a):
        assert Membership.objects.get(tenant=tenant_a, user=existing).role == Role.VIEWER


@pytest.mark.django_db
def test_expired_revoked_and_foreign_tenant_invitation_links_are_refused(
    member_client, tenant_a, tenant_b, client, invite
):
    admin = member_client(tenant_a, Role.ADMIN)
    invite(admin, tenant_a, email="late@example.com")
    invite(admin, tenant_a, email="revoked@example.com")
    late_link, revoked_link = (_link_in(m) for m in mail.outbox)
    with tenant_scope(tenant_a):
        Invitation.objects.filter(email="late@example.com").update(
            expires_at=timezone.now() - timedelta(seconds=1)
        )
        revoked = Invitation.objects.get(email="revoked@example.com")
    admin.post(reverse("member_list", args=[tenant_a.slug]), {"revoke_invitation": revoked.pk})
    # the same token under another tenant's slug finds nothing
    foreign_link = late_link.replace(f"/invite/{tenant_a.slug}/", f"/invite/{tenant_b.slug}/")
    admin.logout()
    for link in (late_link, revoked_link, foreign_link):
        response = client.post(link, {"password": NEW_PASSWORD, "password_confirm": NEW_PASSWORD})
        assert response.status_code == 404, link
    with tenant_scope(tenant_a):
        assert not Membership.objects.filter(user__username__endswith="@example.com").exists()


@pytest.mark.django_db
def test_inviting_a_member_again_is_refused(member_client, tenant_a, invite):
    admin = member_client(tenant_a, Role.ADMIN)
    admin.user.email = "boss@example.com"
    admin.user.save()
    response = invite(admin, tenant_a, email="boss@example.com")
    assert response.status_code == 200
    assert "is already a member" in response.content.decode()


@pytest.mark.django_db
def test_the_last_admin_can_be_neither_removed_nor_demoted(member_client, tenant_a):
    admin = member_client(tenant_a, Role.ADMIN)
    with tenant_scope(tenant_a):
        mine = Membership.objects.get(tenant=tenant_a, user=admin.user)
    url = reverse("member_list", args=[tenant_a.slug])
    response = admin.post(url, {"remove": mine.pk}, follow=True)
    assert "at least one admin" in response.content.decode()
    response = admin.post(url, {"membership_id": mine.pk, "role": Role.VIEWER}, follow=True)
    assert "at least one admin" in response.content.decode()
    with tenant_scope(tenant_a):
        mine.refresh_from_db()
    assert mine.role == Role.ADMIN
    # with a second admin, removing one works and is audited
    other = membership_create(tenant=tenant_a, user=UserFactory(), role=Role.ADMIN)
    assert admin.post(url, {"remove": other.pk}).status_code == 302
    with tenant_scope(tenant_a):
        assert not Membership.objects.filter(pk=other.pk).exists()
    with tenant_scope(tenant_a):
        assert AuditEntry.objects.filter(object_type="acorn.Membership", action="delete").exists()


@pytest.mark.django_db
def test_members_of_another_tenant_cannot_be_removed(member_client, tenant_a, tenant_b):
    admin = member_client(tenant_a, Role.ADMIN)
    theirs = membership_create(tenant=tenant_b, user=UserFactory(), role=Role.VIEWER)
    response = admin.post(reverse("member_list", args=[tenant_a.slug]), {"remove": theirs.pk})
    assert response.status_code == 404
    with tenant_scope(tenant_b):
        assert Membership.objects.filter(pk=theirs.pk).exists()


@pytest.mark.django_db
def test_platform_staff_disable_a_tenant_which_closes_pages_and_api_keys(
    client, member_client, tenant_a
):
    from rest_framework.test import APIClient

    _key, plaintext = api_key_create(tenant=tenant_a, name="bi")
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Api-Key {plaintext}")
    assert api.get(reverse("api:tenant_detail")).status_code == 200
    member = member_client(tenant_a, Role.ADMIN)
    staff = UserFactory(is_staff=True, is_superuser=True)
    staff_client = type(client)()
    staff_client.force_login(staff)
    response = staff_client.post(
        reverse("admin:acorn_tenant_changelist"),
        {"action": "disable_tenants", "_selected_action": [tenant_a.pk]},
    )
    assert response.status_code == 302
    tenant_a.refresh_from_db()
    assert tenant_a.is_active is False
    assert member.get(reverse("tenant_home", args=[tenant_a.slug])).status_code == 404
    assert api.get(reverse("api:tenant_detail")).status_code == 401
    with tenant_scope(tenant_a):
        assert AuditEntry.objects.filter(summary="Tenant disabled", actor=staff).count() == 1


@pytest.mark.django_db
def test_login_page_offers_sign_up(client):
    assert TEST_PASSWORD  # the factories' password is what members log in with
    assert "signup-link" in client.get(reverse("login")).content.decode()
