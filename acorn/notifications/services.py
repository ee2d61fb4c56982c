"""Writes of the notification centre. Apps on every floor raise alerts here
(the basement): ``notification_raise`` is idempotent per (kind, subject)."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.utils import timezone, translation

from acorn.exceptions import NotFoundError
from acorn.models import AuditAction
from acorn.notifications.models import Notification, NotificationKind, NotificationPreference
from acorn.notifications.selectors import notification_title
from acorn.services import audit_record


def notification_raise(
    *, tenant, kind: str, subject_type: str, subject_id, url: str = "",
    params: dict | None = None,
) -> tuple[Notification, bool]:
    """One alert for one item and reason; the same again returns the first
    (created=False) and changes nothing."""
    NotificationKind(kind)  # an unknown kind is a programming error
    subject_id = str(subject_id)
    existing = Notification.objects.filter(
        tenant=tenant, kind=kind, subject_type=subject_type, subject_id=subject_id).first()
    if existing is not None:
        return existing, False
    try:
        with transaction.atomic():
            notification = Notification.objects.create(
                tenant=tenant, kind=kind, subject_type=subject_type[:60],
                subject_id=subject_id[:64], url=url[:300], params=params or {})
    except IntegrityError:
        # Raised at the same moment by another worker.
        return Notification.objects.get(tenant=tenant, kind=kind, subject_type=subject_type,
                                        subject_id=subject_id), False
    return notification, True


@transaction.atomic
def notification_acknowledge(*, tenant, notification_id: int, actor) -> Notification:
    notification = (Notification.objects.select_for_update()
                    .filter(tenant=tenant, pk=notification_id).first())
    if notification is None:
        raise NotFoundError("No such notification.")
    if notification.acknowledged_at is None:
        notification.acknowledged_at = timezone.now()
        notification.acknowledged_by = actor if getattr(actor, "pk", None) else None
        notification.save(update_fields=["acknowledged_at", "acknowledged_by", "updated_at"])
        audit_record(actor=actor, action=AuditAction.UPDATE, instance=notification,
                     summary="Notification acknowledged",
                     before={"acknowledged": False}, after={"acknowledged": True})
    return notification


@transaction.atomic
def notification_preferences_set(*, tenant, user, preferences: dict[str, dict], actor=None):
    """``preferences``: {kind: {"show": bool, "email": bool}} for the kinds given."""
    for kind, values in preferences.items():
        NotificationKind(kind)
        NotificationPreference.objects.update_or_create(
            tenant=tenant, user=user, kind=kind,
            defaults={"show": bool(values.get("show", True)),
                      "email": bool(values.get("email", True))})
    audit_record(actor=actor or user, action=AuditAction.UPDATE, object_type="notification_prefs",
                 object_id=str(user.pk), summary="Notification preferences changed",
                 after={k: dict(v) for k, v in preferences.items()})


def notifications_digest_send(*, tenant, now: dt.datetime | None = None) -> int:
    """The daily e-mail: to each member with an address, the open alerts of
    the last 24 hours of the kinds they want by e-mail. Returns mails sent."""
    from acorn.selectors import membership_list

    now = now or timezone.now()
    since = now - dt.timedelta(days=1)
    recent = list(Notification.objects.filter(
        tenant=tenant, acknowledged_at__isnull=True, created_at__gt=since, created_at__lte=now)
        .order_by("kind", "created_at", "id"))
    if not recent:
        return 0
    opted_out = set(NotificationPreference.objects.filter(tenant=tenant, email=False)
                    .values_list("user_id", "kind"))
    sent = 0
    for membership in membership_list(tenant=tenant).select_related("user"):
        user = membership.user
        if not user.email or not user.is_active:
            continue
        mine = [n for n in recent if (user.pk, n.kind) not in opted_out]
        if not mine:
            continue
        with translation.override(settings.LANGUAGE_CODE):
            items = [{"title": notification_title(n), "url": n.url} for n in mine]
            subject = translation.gettext("ACORN daily digest: %(count)d open alerts") % {
                "count": len(items)}
            body = render_to_string("acorn/notifications/digest_email.txt",
                                    {"items": items, "tenant": tenant})
        send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [user.email])
        sent += 1
    Notification.objects.filter(pk__in=[n.pk for n in recent]).update(digested_at=now)
    return sent
