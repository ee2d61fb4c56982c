"""Tenant B never sees or touches tenant A's objects, at any URL.

The URL list is read from the resolver, so a new page or endpoint without
a probe fails ``test_every_url_has_a_probe``.
"""

from __future__ import annotations

import importlib

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from acorn.models import Role
from acorn.tests.factories import UserFactory, membership_create
from tests.isolation import PROBES as KERNEL_PROBES

APPS_WITH_PROBES = ["inventory", "channels", "invoicing", "reconciliation"]


def all_probes() -> dict:
    probes = dict(KERNEL_PROBES)
    for app in APPS_WITH_PROBES:
        try:
            module = importlib.import_module(f"{app}.tests.isolation")
        except ModuleNotFoundError:
            continue
        probes.update(module.PROBES)
    return probes


def _walk(patterns, prefix="", namespace=""):
    for pattern in patterns:
        route = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            ns = namespace
            if pattern.namespace:
                ns = f"{namespace}{pattern.namespace}:"
            yield from _walk(pattern.url_patterns, route, ns)
        elif isinstance(pattern, URLPattern) and pattern.name:
            yield route, namespace + pattern.name


def tenant_urls() -> list[str]:
    names = set()
    for route, name in _walk(get_resolver().url_patterns):
        if route.startswith("t/<slug:tenant_slug>/") or route.startswith("api/v1/"):
            names.add(name)
    return sorted(names)


PROBES = all_probes()
URL_NAMES = tenant_urls()


def test_every_url_has_a_probe():
    assert sorted(set(URL_NAMES) - set(PROBES)) == []


def _admin_client(client_class, tenant):
    user = UserFactory(username=f"admin-of-{tenant.slug}")
    membership_create(tenant=tenant, user=user, role=Role.ADMIN)
    client = client_class()
    client.force_login(user)
    return client


def _text(response) -> str:
    """The body as text; binary bodies (PDF, XLSX) decode lossily, which
    keeps ASCII markers such as "%PDF" findable."""
    content = b"".join(response.streaming_content) if response.streaming else response.content
    return content.decode("utf-8", errors="replace")


def _request(client, target, url):
    if target.method == "post":
        return client.post(url, target.data)
    return client.get(url)


@pytest.mark.django_db
@pytest.mark.parametrize("url_name", [n for n in URL_NAMES if not n.startswith("api:")])
def test_dashboard_url_hides_tenant_a_from_tenant_b(url_name, tenant_a, tenant_b):
    from django.test import Client

    # Given an object (or list entry) of tenant A, and admins of A and B
    target = PROBES[url_name](tenant_a)
    client_a = _admin_client(Client, tenant_a)
    client_b = _admin_client(Client, tenant_b)
    url_a = reverse(url_name, kwargs={"tenant_slug": tenant_a.slug, **target.kwargs})
    url_b = reverse(url_name, kwargs={"tenant_slug": tenant_b.slug, **target.kwargs})
    # Then A sees its own object (the probe is real)
    own = _request(client_a, target, url_a)
    assert own.status_code in (200, 302), own.status_code
    if target.method == "get":
        assert target.marker in _text(own)
    # And B gets 404 for A's tenant URL, and for A's object under its own
    assert _request(client_b, target, url_a).status_code == 404
    foreign = _request(client_b, target, url_b)
    if target.kwargs:
        assert foreign.status_code == 404
    else:
        assert foreign.status_code in (200, 302)
        assert target.marker not in _text(foreign)


@pytest.mark.django_db
@pytest.mark.parametrize("url_name", [n for n in URL_NAMES if n.startswith("api:")])
def test_api_url_hides_tenant_a_from_tenant_b(url_name, tenant_a, tenant_b, api_client_for):
    target = PROBES[url_name](tenant_a)
    url = reverse(url_name, kwargs=target.kwargs)
    own = api_client_for(tenant_a).get(url)
    assert own.status_code == 200
    assert target.marker in own.content.decode().replace(" ", "")
    foreign = api_client_for(tenant_b).get(url)
    if target.kwargs:
        assert foreign.status_code == 404
        assert foreign.json()["error"]["code"] == "not_found"
    else:
        assert foreign.status_code == 200
        assert target.marker not in foreign.content.decode().replace(" ", "")
