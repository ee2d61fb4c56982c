"""Account secrets never appear on a debug error page or in an error
report (issue 9 defect 8, the account views' part).

Each view that receives the LWA secrets is made to fail deep inside its
service; the technical 500 page Django serves with DEBUG on, and the
report ``django.views.debug.ExceptionReporter`` builds from the same
exception (what error e-mails and trackers send), must not contain them.
"""

from __future__ import annotations

import sys
import uuid

import pytest
from django.core.signals import got_request_exception
from django.test import Client
from django.urls import reverse
from django.views.debug import ExceptionReporter

from acorn.models import Role
from acorn.tenancy import tenant_scope
from acorn.tests.factories import UserFactory, membership_create
from channels.tests.factories import AmazonVendorAccountFactory

# Made at run time: the debug page shows source lines around each frame,
# and a literal here would be found in them.
SECRET = f"canary-secret-{uuid.uuid4().hex}"
TOKEN = f"Atzr|canary-{uuid.uuid4().hex}"


@pytest.fixture
def failing_audit(monkeypatch):
    """The audit write, last step of every account service, blows up."""
    def explode(**kwargs):
        raise RuntimeError("audit store unavailable")

    monkeypatch.setattr("channels.services.accounts.audit_record", explode)


@pytest.fixture
def captured():
    exceptions = []

    def receiver(sender, request, **kwargs):
        exceptions.append((request, sys.exc_info()))

    got_request_exception.connect(receiver)
    yield exceptions
    got_request_exception.disconnect(receiver)


def _admin(tenant):
    user = UserFactory()
    membership_create(tenant=tenant, user=user, role=Role.ADMIN)
    client = Client(raise_request_exception=False)
    client.force_login(user)
    return client


def _posts(tenant):
    with tenant_scope(tenant):
        account = AmazonVendorAccountFactory(tenant=tenant, name="Canary")
    kwargs = {"tenant_slug": tenant.slug, "account_id": account.pk}
    common = {"name": "Canary", "region": "NA", "marketplace_id": "ATVPDKIKX0DER",
              "vendor_codes": "DEMO1", "environment": "local_sandbox",
              "endpoint_override": "http://127.0.0.1:9", "lwa_client_id": "amzn1.app.c",
              "lwa_client_secret": SECRET, "lwa_refresh_token": TOKEN,
              "poll_interval_minutes": "15", "initial_lookback_days": "7",
              "ack_auto_send": "never"}
    return [
        (reverse("channels:account_create", kwargs={"tenant_slug": tenant.slug}),
         {**common, "name": "Canary 2"}),
        (reverse("channels:account_edit", kwargs=kwargs), common),
        (reverse("channels:account_destination", kwargs=kwargs),
         {"environment": "sandbox", "region": "NA", "endpoint_override": "",
          "lwa_client_secret": SECRET, "lwa_refresh_token": TOKEN, "confirm": "on"}),
    ]


@pytest.mark.django_db
def test_debug_page_and_error_report_hide_the_secrets(tenant_a, settings, failing_audit,
                                                      captured):
    settings.DEBUG = True
    client = _admin(tenant_a)
    for url, data in _posts(tenant_a):
        captured.clear()
        # When the view fails with the secrets in the POST and in its locals
        response = client.post(url, data)
        # Then Django's technical 500 page is served, without them
        assert response.status_code == 500, url
        page = response.content.decode()
        assert "audit store unavailable" in page  # it is the debug page
        assert SECRET not in page and TOKEN not in page, url
        assert "lwa_client_secret" in page  # the field is listed, its value starred
        # And the report an error tracker would send has none either
        request, exc_info = captured[-1]
        reporter = ExceptionReporter(request, *exc_info)
        for report in (reporter.get_traceback_html(), reporter.get_traceback_text()):
            assert SECRET not in report and TOKEN not in report, url
