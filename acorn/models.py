"""Tenants, memberships, API keys, the audit log, and the model bases."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from rest_framework_api_key.models import AbstractAPIKey

from acorn.tenancy import AllTenantsManager, TenantScopedManager


class TimestampedModel(models.Model):
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True


class Tenant(TimestampedModel):
    """A brand or company: the unit of isolation."""

    slug = models.SlugField(max_length=50, unique=True)
    name = models.CharField(max_length=200)
    # Business dates (invoice date, settlement day) are derived here.
    timezone = models.CharField(max_length=64, default="UTC")
    default_currency = models.CharField(max_length=3, default="USD")
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["slug", "id"]

    def __str__(self):
        return self.name


class TenantModel(TimestampedModel):
    """Base of every tenant-owned table.

    ``objects`` fails closed without a tenant in context; ``all_tenants``
    is the deliberately named manager for admin and platform work.
    """

    tenant = models.ForeignKey(Tenant, on_delete=models.PROTECT, related_name="+")

    objects = TenantScopedManager()
    all_tenants = AllTenantsManager()

    class Meta:
        abstract = True
        base_manager_name = "all_tenants"
        default_manager_name = "objects"


class Role(models.TextChoices):
    ADMIN = "admin", _("Admin")
    OPERATIONS = "operations", _("Operations")
    VIEWER = "viewer", _("Viewer")


# What each role may do, lowest first: viewer reads, operations acts,
# admin configures. A role includes the ones below it.
ROLE_RANK = {Role.VIEWER: 1, Role.OPERATIONS: 2, Role.ADMIN: 3}


class Membership(TimestampedModel):
    """A user's role in one tenant.

    Read before any tenant is chosen (login, tenant switcher): besides its
    tenant, row-level security lets the signed-in user read their own rows,
    and nothing more; see acorn/rls.py.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=20, choices=Role.choices, default=Role.VIEWER)

    class Meta:
        ordering = ["tenant__slug", "id"]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "user"], name="membership_unique_per_tenant"),
        ]

    def __str__(self):
        return f"{self.user} @ {self.tenant.slug} ({self.role})"

    def allows(self, required_role: str) -> bool:
        return ROLE_RANK[Role(self.role)] >= ROLE_RANK[Role(required_role)]


class ApiScope(models.TextChoices):
    READ = "read", _("Read")


class TenantAPIKey(AbstractAPIKey):
    """A hashed API key for BI tools, bound to one tenant.

    Looked up by its prefix before the tenant is known: besides its tenant,
    row-level security shows authentication the one row whose prefix it
    presents (the key hash is the secret); see acorn/rls.py.
    """

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="api_keys")
    scopes = models.JSONField(default=list, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    last_used_at = models.DateTimeField(null=True, blank=True)
    # AbstractAPIKey already records ``created``; this completes the pair.
    updated_at = models.DateTimeField(auto_now=True)

    class Meta(AbstractAPIKey.Meta):
        verbose_name = _("API key")
        verbose_name_plural = _("API keys")
        ordering = ["-created", "id"]

    @property
    def is_read_only(self) -> bool:
        return "write" not in (self.scopes or [])


class AuditAction(models.TextChoices):
    CREATE = "create", _("Created")
    UPDATE = "update", _("Updated")
    DELETE = "delete", _("Deleted")
    ACTION = "action", _("Action")


class AuditEntry(TenantModel):
    """Who changed what configuration, or took which manual action, when."""

    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor_label = models.CharField(max_length=200, blank=True)
    action = models.CharField(max_length=10, choices=AuditAction.choices)
    object_type = models.CharField(max_length=100)
    object_id = models.CharField(max_length=64, blank=True)
    object_repr = models.CharField(max_length=300, blank=True)
    summary = models.CharField(max_length=300, blank=True)
    before = models.JSONField(default=dict, blank=True)
    after = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["tenant", "-created_at", "-id"], name="audit_tenant_recent")
        ]
        verbose_name_plural = "audit entries"

    def __str__(self):
        return f"{self.action} {self.object_type} {self.object_id}"


class Invitation(TenantModel):
    """An e-mailed offer to join a tenant with a role.

    The link carries a random token; only its SHA-256 is stored, so a
    leaked database row cannot be used to join. An invitation is used once
    and expires (``expires_at``); revoking it ends it early.
    """

    email = models.EmailField()
    role = models.CharField(max_length=20, choices=Role.choices, default=Role.VIEWER)
    token_hash = models.CharField(max_length=64, unique=True)
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    expires_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["tenant", "email"], name="invitation_tenant_email")]

    def __str__(self):
        return f"{self.email} ({self.role})"

    def is_open(self, now) -> bool:
        return self.accepted_at is None and self.revoked_at is None and self.expires_at > now


# The notification centre's tables (acorn/notifications/).
from acorn.notifications.models import (  # noqa: E402,F401
    Notification,
    NotificationKind,
    NotificationPreference,
)
