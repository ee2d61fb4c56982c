"""Reads of the notification centre."""

from __future__ import annotations

from django.db.models import Exists, OuterRef, QuerySet
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from acorn.notifications.models import Notification, NotificationKind, NotificationPreference

# Titles are built when shown, so each reader sees their own language.
_TITLES = {
    NotificationKind.DEDUCTION_NEW: gettext_noop(
        "New %(type)s deduction %(reference)s: %(amount)s %(currency)s"),
    NotificationKind.WINDOW_CLOSING: gettext_noop(
        "Dispute window for %(reference)s closes on %(due)s (%(amount)s %(currency)s open)"),
    NotificationKind.UNEXPLAINED: gettext_noop(
        "Unexplained difference on %(reference)s: %(amount)s %(currency)s"),
    NotificationKind.SUBMISSION_STUCK: gettext_noop("Submission %(reference)s is %(status)s"),
}


def notification_title(notification: Notification) -> str:
    template = _TITLES.get(notification.kind)
    if template is None:
        return notification.kind
    params = {key: "" for key in ("type", "reference", "amount", "currency", "due", "status")}
    params.update(notification.params or {})
    try:
        return _(template) % params
    except (KeyError, ValueError, TypeError):
        return _(template)


def notification_list_for_user(*, tenant, user, include_acknowledged: bool = False
                               ) -> QuerySet[Notification]:
    """The user's alerts: every kind they did not hide, newest first."""
    hidden = NotificationPreference.objects.filter(
        tenant=tenant, user=user, kind=OuterRef("kind"), show=False)
    queryset = (Notification.objects.filter(tenant=tenant)
                .annotate(hidden=Exists(hidden)).filter(hidden=False)
                .select_related("acknowledged_by"))
    if not include_acknowledged:
        queryset = queryset.filter(acknowledged_at__isnull=True)
    return queryset.order_by("-created_at", "-id")


def notification_open_count(*, tenant, user) -> int:
    return notification_list_for_user(tenant=tenant, user=user).count()


def notification_preferences_for_user(*, tenant, user) -> dict[str, dict]:
    stored = {p.kind: p for p in NotificationPreference.objects.filter(tenant=tenant, user=user)}
    return {kind: {"label": label,
                   "show": stored[kind].show if kind in stored else True,
                   "email": stored[kind].email if kind in stored else True}
            for kind, label in NotificationKind.choices}


def notifications_context(request):
    """Context processor: the open-alert count for the header's bell."""
    from acorn.tenancy import tenant_scope

    membership = getattr(request, "membership", None)
    if membership is None:
        return {}
    # Error pages render after the view left the tenant's context.
    with tenant_scope(membership.tenant):
        return {"notification_open_count": notification_open_count(
            tenant=membership.tenant, user=request.user)}
