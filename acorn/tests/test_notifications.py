"""The notification centre: one alert per item and kind, acknowledgement,
per-user preferences, the bell count, and the daily digest e-mail."""

import datetime as dt

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from acorn.notifications.models import Notification, NotificationKind
from acorn.notifications.selectors import notification_list_for_user, notification_title
from acorn.notifications.services import (
    notification_acknowledge,
    notification_preferences_set,
    notification_raise,
    notifications_digest_send,
)
from acorn.tenancy import tenant_scope


def _raise(tenant, subject_id="1", kind=NotificationKind.UNEXPLAINED):
    with tenant_scope(tenant):
        return notification_raise(tenant=tenant, kind=kind, subject_type="deduction",
                                  subject_id=subject_id, url="/x/",
                                  params={"reference": f"INV-{subject_id}", "amount": "5.00",
                                          "currency": "EUR"})


@pytest.mark.django_db
def test_same_item_and_kind_alert_once(tenant_a):
    first, created = _raise(tenant_a)
    again, created_again = _raise(tenant_a)
    other_kind, created_other = _raise(tenant_a, kind=NotificationKind.DEDUCTION_NEW)
    assert created and not created_again and first.pk == again.pk and created_other
    with tenant_scope(tenant_a):
        assert Notification.objects.count() == 2
        assert notification_title(first) == "Unexplained difference on INV-1: 5.00 EUR"


@pytest.mark.django_db
def test_acknowledge_and_preferences_filter_the_list(tenant_a, member_client):
    client = member_client(tenant_a, "viewer")
    user = client.user
    notification, _ = _raise(tenant_a)
    _raise(tenant_a, subject_id="2", kind=NotificationKind.WINDOW_CLOSING)
    page = client.get(reverse("notification_list", kwargs={"tenant_slug": tenant_a.slug}))
    body = page.content.decode()
    assert "INV-1" in body and 'class="count">2<' in body
    response = client.post(reverse("notification_ack", kwargs={
        "tenant_slug": tenant_a.slug, "notification_id": notification.pk}))
    assert response.status_code == 302
    with tenant_scope(tenant_a):
        notification.refresh_from_db()
        assert notification.acknowledged_at and notification.acknowledged_by_id == user.pk
        notification_preferences_set(tenant=tenant_a, user=user, preferences={
            NotificationKind.WINDOW_CLOSING: {"show": False, "email": False}})
        assert list(notification_list_for_user(tenant=tenant_a, user=user)) == []
        # Acknowledging twice changes nothing.
        again = notification_acknowledge(tenant=tenant_a, notification_id=notification.pk,
                                         actor=None)
        assert again.acknowledged_by_id == user.pk


@pytest.mark.django_db
def test_preferences_page_saves(tenant_a, member_client):
    client = member_client(tenant_a, "viewer")
    url = reverse("notification_preferences", kwargs={"tenant_slug": tenant_a.slug})
    assert client.get(url).status_code == 200
    data = {f"show_{k}": "on" for k in NotificationKind.values}
    data["email_deduction_new"] = "on"
    assert client.post(url, data).status_code == 302
    from acorn.notifications.selectors import notification_preferences_for_user

    with tenant_scope(tenant_a):
        prefs = notification_preferences_for_user(tenant=tenant_a, user=client.user)
    assert prefs["deduction_new"]["email"] and not prefs["unexplained"]["email"]


@pytest.mark.django_db
def test_daily_digest_honours_email_preferences(tenant_a):
    from acorn.models import Role
    from acorn.tests.factories import UserFactory, membership_create

    wants = UserFactory(username="wants", email="wants@example.com")
    declines = UserFactory(username="declines", email="declines@example.com")
    for user in (wants, declines):
        membership_create(tenant=tenant_a, user=user, role=Role.OPERATIONS)
    _raise(tenant_a, subject_id="7")
    with tenant_scope(tenant_a):
        notification_preferences_set(tenant=tenant_a, user=declines, preferences={
            NotificationKind.UNEXPLAINED: {"show": True, "email": False}})
        sent = notifications_digest_send(tenant=tenant_a)
    assert sent == 1
    [message] = mail.outbox
    assert message.to == ["wants@example.com"] and "INV-7" in message.body
    # Nothing raised in the next day: no mail the day after.
    with tenant_scope(tenant_a):
        later = timezone.now() + dt.timedelta(days=1, minutes=1)
        assert notifications_digest_send(tenant=tenant_a, now=later) == 0
