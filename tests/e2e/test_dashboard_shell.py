"""An admin logs in, switches to Chinese, reads the audit log (a browser)."""

import pytest

from acorn.models import Role
from acorn.services import api_key_create
from acorn.tests.factories import TEST_PASSWORD, UserFactory, membership_create


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_login_language_switch_and_audit_log(live_server, browser_page, tenant_a):
    # Given an admin of tenant A and one audited configuration change
    admin = UserFactory(username="e2e-admin")
    membership_create(tenant=tenant_a, user=admin, role=Role.ADMIN)
    api_key_create(tenant=tenant_a, name="Looker Studio", actor=admin)
    page = browser_page

    # When the admin logs in through the form
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("#id_username", "e2e-admin")
    page.fill("#id_password", TEST_PASSWORD)
    page.click("button[type=submit]")

    # Then the tenant's overview opens, with the admin menu
    page.wait_for_url(f"**/t/{tenant_a.slug}/")
    assert page.inner_text("h1") == "Overview"
    assert page.is_visible("nav.sidebar >> text=Audit log")

    # When the language is switched to Simplified Chinese
    page.select_option("#language", "zh-hans")
    page.wait_for_load_state("networkidle")

    # Then the page speaks Chinese
    assert page.inner_text("h1") == "概览"

    # And the audit log lists the change
    page.click("nav.sidebar >> text=审计日志")
    assert page.inner_text("h1") == "审计日志"
    assert "Looker Studio" in page.inner_text("table")
    assert "e2e-admin" in page.inner_text("table")


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_wrong_password_shows_an_error(live_server, browser_page, tenant_a):
    UserFactory(username="e2e-user")
    page = browser_page
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("#id_username", "e2e-user")
    page.fill("#id_password", "not-the-password")
    page.click("button[type=submit]")
    assert "didn't match" in page.inner_text(".login")
