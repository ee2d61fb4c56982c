"""Content-Security-Policy on every page, and no inline script anywhere.

Every dashboard page (the URLs of the tenant-isolation probes), the API
docs, the admin and the login page send a policy that allows scripts from
this origin only; the rendered pages and the templates carry no inline
script and no inline event handler that such a policy would block.
tests/e2e/test_csp.py loads them in a real browser.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.test import Client
from django.urls import reverse

from acorn.models import Role
from acorn.tests.factories import UserFactory, membership_create
from tests.test_tenant_isolation import PROBES, URL_NAMES

ROOT = Path(__file__).resolve().parents[2]
# <script> with content (no src), and on*= event handler attributes.
INLINE_SCRIPT = re.compile(r"<script\b(?![^>]*\bsrc=)[^>]*>\s*\S", re.IGNORECASE)
INLINE_HANDLER = re.compile(r"<[a-z][^>]*\son[a-z]+\s*=", re.IGNORECASE)
JAVASCRIPT_URL = re.compile(r"(href|src|action)\s*=\s*[\"']?\s*javascript:", re.IGNORECASE)


def policy(response) -> dict[str, list[str]]:
    header = response.headers.get("Content-Security-Policy")
    assert header, f"no Content-Security-Policy on {response.request['PATH_INFO']}"
    directives = {}
    for part in header.split(";"):
        name, *values = part.split()
        directives[name] = values
    return directives


def assert_strict_scripts(response) -> None:
    directives = policy(response)
    assert directives["script-src"] == ["'self'"]
    assert directives["object-src"] == ["'none'"]
    assert directives["frame-ancestors"] == ["'none'"]
    assert directives["base-uri"] == ["'self'"]


def assert_no_inline_script(html: str) -> None:
    assert INLINE_SCRIPT.findall(html) == []
    assert INLINE_HANDLER.findall(html) == []
    assert JAVASCRIPT_URL.findall(html) == []


def test_the_inline_script_patterns_catch_what_they_should():
    """Negative control for the two checks below."""
    assert INLINE_SCRIPT.search("<script>alert(1)</script>")
    assert INLINE_SCRIPT.search('<script type="module">\n go()</script>')
    assert not INLINE_SCRIPT.search('<script src="/static/a.js" defer></script>')
    assert INLINE_HANDLER.search('<select id="x" onchange="go()">')
    assert not INLINE_HANDLER.search('<select id="x" data-online="1">')
    assert JAVASCRIPT_URL.search('<a href="javascript:void(0)">')


def test_no_template_has_inline_script_or_handlers():
    templates = [
        path
        for path in ROOT.rglob("*.html")
        if ".venv" not in path.parts and "var" not in path.parts
    ]
    assert any(path.name == "base.html" for path in templates)
    offenders = []
    for path in templates:
        text = path.read_text()
        if INLINE_SCRIPT.search(text) or INLINE_HANDLER.search(text) or JAVASCRIPT_URL.search(text):
            offenders.append(str(path.relative_to(ROOT)))
    assert offenders == []


DASHBOARD_PAGES = [name for name in URL_NAMES if not name.startswith("api:")]


@pytest.mark.django_db
@pytest.mark.parametrize("url_name", DASHBOARD_PAGES)
def test_every_dashboard_page_sends_the_policy_and_has_no_inline_script(url_name, tenant_a):
    # Given an admin of tenant A and what the probe builds for the page
    target = PROBES[url_name](tenant_a)
    user = UserFactory(username=f"csp-admin-{tenant_a.slug}")
    membership_create(tenant=tenant_a, user=user, role=Role.ADMIN)
    client = Client()
    client.force_login(user)
    url = reverse(url_name, kwargs={"tenant_slug": tenant_a.slug, **target.kwargs})
    # When the page is requested
    response = client.get(url) if target.method == "get" else client.post(url, target.data)
    # Then it carries the policy, and an HTML page no inline script
    assert response.status_code in (200, 302), response.status_code
    assert_strict_scripts(response)
    if target.method == "get" and "html" in response.headers.get("Content-Type", ""):
        assert_no_inline_script(response.content.decode())


@pytest.mark.django_db
def test_api_docs_send_the_policy_without_inline_script(client):
    response = client.get(reverse("api_docs"))
    assert response.status_code == 200
    assert_strict_scripts(response)
    html = response.content.decode()
    assert_no_inline_script(html)
    assert "redoc.standalone.js" in html
    # No web fonts or other assets from another origin.
    assert "https://" not in html


@pytest.mark.django_db
def test_admin_and_login_pages_send_the_policy(client):
    for url in (reverse("admin:login"), reverse("login")):
        response = client.get(url)
        assert response.status_code == 200
        assert_strict_scripts(response)
        assert_no_inline_script(response.content.decode())


@pytest.mark.django_db
def test_json_api_answers_send_the_policy_too(tenant_a, api_client_for):
    response = api_client_for(tenant_a).get(reverse("api:tenant_detail"))
    assert response.status_code == 200
    assert_strict_scripts(response)


@pytest.mark.django_db
def test_admin_pages_of_staff_have_no_inline_script(client, tenant_a):
    from django.contrib.auth import get_user_model

    staff = get_user_model().objects.create_superuser("csp-staff", "s@example.com", "x" * 16)
    client.force_login(staff)
    for url in (
        reverse("admin:index"),
        reverse("admin:acorn_tenant_changelist"),
        reverse("admin:acorn_tenant_change", args=[tenant_a.pk]),
        reverse("admin:auth_user_changelist"),
    ):
        response = client.get(url)
        assert response.status_code == 200, url
        assert_strict_scripts(response)
        assert_no_inline_script(response.content.decode())
