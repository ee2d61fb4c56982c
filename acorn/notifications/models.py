"""Notifications and per-user preferences. Imported by acorn/models.py so
they belong to the ``acorn`` app."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from acorn.models import TenantModel


class NotificationKind(models.TextChoices):
    DEDUCTION_NEW = "deduction_new", _("New deduction over the threshold")
    WINDOW_CLOSING = "window_closing", _("Dispute window closing")
    UNEXPLAINED = "unexplained", _("Unexplained difference")
    SUBMISSION_STUCK = "submission_stuck", _("Stuck submission")


class Notification(TenantModel):
    """One alert about one item. (kind, subject) is unique per tenant: the
    same item never alerts twice for the same reason."""

    kind = models.CharField(max_length=24, choices=NotificationKind.choices)
    subject_type = models.CharField(max_length=60)
    subject_id = models.CharField(max_length=64)
    # A plain title in the language of the moment it was raised is not
    # translatable later; the title is built from ``params`` when shown.
    params = models.JSONField(default=dict, blank=True)
    url = models.CharField(max_length=300, blank=True)
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
        related_name="+")
    digested_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "kind", "subject_type", "subject_id"],
                                    name="notification_unique_subject"),
        ]
        indexes = [
            models.Index(fields=["tenant", "acknowledged_at", "-created_at"],
                         name="notification_open"),
        ]

    def __str__(self):
        return f"{self.kind} {self.subject_type}:{self.subject_id}"


class NotificationPreference(TenantModel):
    """Which kinds a user sees and which go into the daily e-mail digest.
    No row means: shown, and e-mailed."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=24, choices=NotificationKind.choices)
    show = models.BooleanField(default=True)
    email = models.BooleanField(default=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["tenant", "user", "kind"],
                                    name="notification_pref_unique"),
        ]
