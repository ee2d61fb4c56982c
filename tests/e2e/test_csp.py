"""The Content-Security-Policy in a real browser: no page reports a
violation, and the page behaviour (tenant switcher, language switcher, the
API docs, the admin) still works with scripts from this origin only."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model

from acorn.models import Role
from acorn.services import api_key_create
from acorn.tests.factories import TEST_PASSWORD, TenantFactory, UserFactory, membership_create

# Chromium reports a blocked resource or script on the console and fires
# securitypolicyviolation; the init script (run by Playwright, outside the
# page's policy) records the events of every document the tab loads.
RECORD_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.__cspViolations.push(event.violatedDirective + " " + (event.blockedURI || "inline"));
});
"""


# Redoc's side menu always shows a "by Redocly" logo from Redocly's CDN; the
# policy blocks it on purpose (no third-party loads, no internet in tests)
# and Redoc drops the image on the error. Nothing else may be blocked.
EXPECTED_BLOCKS = ("https://cdn.redoc.ly/redoc/logo-mini.svg",)


class ConsoleWatch:
    def __init__(self, page):
        self.page = page
        self.messages: list[str] = []
        self.violations: list[str] = []
        page.add_init_script(RECORD_VIOLATIONS)
        page.on("console", self._console)
        page.on("pageerror", lambda error: self.messages.append(f"pageerror: {error}"))

    def _console(self, message):
        if message.type in ("error", "warning"):
            self.messages.append(f"{message.type}: {message.text}")

    def collect(self) -> None:
        """Read the current document's recorded violations."""
        self.violations += self.page.evaluate("window.__cspViolations || []")

    def csp_reports(self) -> list[str]:
        self.collect()
        console = [m for m in self.messages if "Content Security Policy" in m or "Refused" in m]
        return [
            report
            for report in console + self.violations
            if not any(url in report for url in EXPECTED_BLOCKS)
        ]


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_dashboard_pages_work_with_no_csp_violation(live_server, browser_page):
    # Given an admin of two tenants
    tenant_a = TenantFactory(slug="alpha", name="Alpha Brand")
    tenant_b = TenantFactory(slug="bravo", name="Bravo Brand")
    admin = UserFactory(username="csp-admin")
    membership_create(tenant=tenant_a, user=admin, role=Role.ADMIN)
    membership_create(tenant=tenant_b, user=admin, role=Role.ADMIN)
    api_key_create(tenant=tenant_a, name="Looker Studio", actor=admin)
    page = browser_page
    watch = ConsoleWatch(page)

    # When the admin logs in
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("#id_username", "csp-admin")
    page.fill("#id_password", TEST_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/")
    watch.collect()

    # And picks tenant B in the switcher (the picker page lists both)
    page.goto(f"{live_server.url}/t/alpha/")
    assert page.inner_text("h1") == "Overview"
    watch.collect()
    page.select_option("#tenant-switcher", label="Bravo Brand")
    page.wait_for_url(f"{live_server.url}/t/bravo/")
    assert page.inner_text(".switcher option:checked") == "Bravo Brand"
    watch.collect()

    # And switches the language (the script posts the form)
    page.select_option("#language", "zh-hans")
    page.wait_for_url(f"{live_server.url}/t/bravo/")
    page.wait_for_selector("h1:text('概览')")
    watch.collect()
    page.select_option("#language", "en")
    page.wait_for_selector("h1:text('Overview')")
    watch.collect()

    # And opens every page of the menu of tenant A
    page.goto(f"{live_server.url}/t/alpha/")
    links = page.eval_on_selector_all("nav.sidebar a", "links => links.map(a => a.href)")
    assert len(links) >= 4
    for link in links:
        response = page.goto(link)
        assert response.status < 400, link
        page.wait_for_load_state("load")
        watch.collect()
    page.goto(f"{live_server.url}/t/alpha/settings/api-keys/")
    assert "Looker Studio" in page.inner_text("main")
    watch.collect()

    # Then no page reported a policy violation, nor a script error
    assert watch.csp_reports() == []
    assert [m for m in watch.messages if m.startswith("pageerror")] == []


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_api_docs_and_admin_render_with_no_csp_violation(live_server, browser_page):
    get_user_model().objects.create_superuser("csp-staff", "s@example.com", TEST_PASSWORD)
    TenantFactory(slug="alpha", name="Alpha Brand")
    page = browser_page
    watch = ConsoleWatch(page)

    # The API docs: Redoc renders the schema's title and an operation
    page.goto(f"{live_server.url}/api/docs/")
    page.wait_for_selector("h1:has-text('ACORN API')", timeout=30_000)
    page.wait_for_selector("text=Api-Key", timeout=30_000)
    watch.collect()

    # The admin: log in, list tenants, open one (the inlines' scripts run)
    page.goto(f"{live_server.url}/admin/login/")
    page.fill("#id_username", "csp-staff")
    page.fill("#id_password", TEST_PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_selector("#site-name")
    watch.collect()
    page.goto(f"{live_server.url}/admin/acorn/tenant/")
    page.click("text=alpha")
    page.wait_for_selector("#memberships-group")
    # The inline's "add another" link is added by the admin's own script.
    page.wait_for_selector("#memberships-group .add-row a")
    watch.collect()

    assert watch.csp_reports() == []
    assert [m for m in watch.messages if m.startswith("pageerror")] == []
