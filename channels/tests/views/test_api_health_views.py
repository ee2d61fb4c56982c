"""API health on the account page and the home page."""

import pytest
from django.test.utils import override_settings
from django.urls import reverse

from acorn.tenancy import tenant_scope
from channels.services.api_health import api_health_check
from channels.tests.factories import AmazonVendorAccountFactory
from channels.tests.selectors.test_api_health import log_calls


@pytest.mark.django_db
@override_settings(ACORN_API_HEALTH_MIN_CALLS=5)
def test_account_page_shows_per_operation_health_and_the_open_alert(tenant_a, member_client):
    client = member_client(tenant_a, "admin")
    with tenant_scope(tenant_a):
        account = AmazonVendorAccountFactory(tenant=tenant_a, name="US account")
        log_calls(tenant_a, account, "getPurchaseOrders", ok=3, failed=3)
        log_calls(tenant_a, account, "submitAcknowledgement", ok=2)
        api_health_check(tenant=tenant_a)
    page = client.get(reverse("channels:account_edit", kwargs={
        "tenant_slug": tenant_a.slug, "account_id": account.pk})).content.decode()
    assert "Amazon API health (last 60 minutes)" in page
    assert "<td>getPurchaseOrders</td><td>6</td><td>50.0 %</td><td>3</td>" in page
    assert "<td>submitAcknowledgement</td><td>2</td><td>100.0 %</td>" in page
    assert "Amazon API unhealthy on US account: 62.5% of 8 calls succeeded" in page


@pytest.mark.django_db
def test_home_page_shows_api_health_in_chinese(tenant_a, member_client):
    client = member_client(tenant_a, "viewer")
    with tenant_scope(tenant_a):
        account = AmazonVendorAccountFactory(tenant=tenant_a, name="EU account")
        log_calls(tenant_a, account, "getPurchaseOrders", ok=4)
    url = reverse("tenant_home", kwargs={"tenant_slug": tenant_a.slug})
    assert "Amazon API health: EU account" in client.get(url).content.decode()
    chinese = client.get(url, HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "亚马逊 API 健康度：EU account" in chinese
    assert "100 %" in chinese
