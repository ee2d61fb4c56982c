"""The LWA client secret's entry date is recorded when a secret is saved;
Amazon's 180-day rotation is reminded from day 150 on the work queue and
the home page (issue 8, Amazon account)."""

from __future__ import annotations

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from acorn.tenancy import tenant_scope
from channels.models import ChannelException, ExceptionKind
from channels.services.accounts import (
    account_create,
    account_secret_expiry_check,
    account_update,
)
from channels.tests.factories import AmazonVendorAccountFactory


def _create(tenant, name="US vendor"):
    return account_create(
        tenant=tenant, name=name, region="NA", marketplace_id="ATVPDKIKX0DER",
        environment="local_sandbox", endpoint_override="http://127.0.0.1:9",
        vendor_codes=["DEMO1"], lwa_client_id="amzn1.app.x", lwa_client_secret="s1",
        lwa_refresh_token="Atzr|t1",
    )


@pytest.mark.django_db
def test_entry_date_is_recorded_and_restarted_by_a_new_secret(scope):
    today = timezone.now().date()
    account = _create(scope)
    assert account.lwa_client_secret_entered_on == today
    assert account.lwa_client_secret_expires_on == today + datetime.timedelta(days=180)
    # Saving other fields keeps the clock; a new secret restarts it
    type(account).objects.filter(pk=account.pk).update(
        lwa_client_secret_entered_on=today - datetime.timedelta(days=100),
        lwa_client_secret_expires_on=today + datetime.timedelta(days=80))
    account, _changed = account_update(tenant=scope, account=account, data={"name": "Renamed"})
    assert account.lwa_client_secret_entered_on == today - datetime.timedelta(days=100)
    account, _changed = account_update(tenant=scope, account=account,
                                       data={"lwa_client_secret": "s2"})
    assert account.lwa_client_secret_entered_on == today
    assert account.lwa_client_secret_expires_on == today + datetime.timedelta(days=180)


@pytest.mark.django_db
def test_reminder_opens_on_day_150_not_before(scope):
    entered = datetime.date(2026, 1, 1)
    account = _create(scope)
    type(account).objects.filter(pk=account.pk).update(
        lwa_client_secret_entered_on=entered,
        lwa_client_secret_expires_on=entered + datetime.timedelta(days=180))
    # Day 149: nothing; day 150: one reminder, once
    assert account_secret_expiry_check(
        tenant=scope, today=entered + datetime.timedelta(days=149)) == 0
    assert account_secret_expiry_check(
        tenant=scope, today=entered + datetime.timedelta(days=150)) == 1
    assert account_secret_expiry_check(
        tenant=scope, today=entered + datetime.timedelta(days=151)) == 0
    exception = ChannelException.objects.get(kind=ExceptionKind.SECRET_EXPIRING)
    assert "must be rotated by 2026-06-30 (30 days)" in exception.message
    assert exception.detail["steps"] == "lwa_rotate"
    # A new secret resolves it
    account_update(tenant=scope, account=account, data={"lwa_client_secret": "rotated"})
    exception.refresh_from_db()
    assert exception.status == "resolved"


@pytest.mark.django_db
def test_rows_without_an_entry_date_count_from_their_creation(scope):
    account = AmazonVendorAccountFactory(tenant=scope)
    created = account.created_at.date()
    assert account_secret_expiry_check(
        tenant=scope, today=created + datetime.timedelta(days=149)) == 0
    assert account_secret_expiry_check(
        tenant=scope, today=created + datetime.timedelta(days=150)) == 1


@pytest.mark.django_db
def test_home_page_and_work_queue_show_the_rotation(tenant_a, member_client):
    with tenant_scope(tenant_a):
        account = _create(tenant_a)
        type(account).objects.filter(pk=account.pk).update(
            lwa_client_secret_entered_on=timezone.now().date() - datetime.timedelta(days=155),
            lwa_client_secret_expires_on=timezone.now().date() + datetime.timedelta(days=25))
        account_secret_expiry_check(tenant=tenant_a)
    client = member_client(tenant_a, "admin")
    home = client.get(reverse("tenant_home", kwargs={"tenant_slug": "alpha"})).content.decode()
    assert "LWA client secrets to rotate" in home
    queue = client.get(reverse("channels:exception_list",
                               kwargs={"tenant_slug": "alpha"})).content.decode()
    assert "LWA client secret due for rotation" in queue
    assert "rotate its client secret" in queue
