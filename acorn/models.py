"""Tenants, memberships, API keys, the audit log, and the model bases."""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _
from rest_framework_api_key.models import AbstractAPIKey

from acorn.tenancy import AllTenantsManager, TenantScopedManager

DATA_RETENTION_DEFAULT_DAYS = 90
DATA_RETENTION_MIN_DAYS = 30
DATA_RETENTION_MAX_DAYS = 3650


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
    # API call logs, sync runs and PO events older than this are exported to
    # archive files and deleted (channels' data archive task). Bounds: a
    # month keeps the work queue's history and a support ticket's calls; ten
    # years is the longest retention any customer asked for.
    data_retention_days = models.PositiveIntegerField(
        default=DATA_RETENTION_DEFAULT_DAYS,
        db_default=DATA_RETENTION_DEFAULT_DAYS,
        validators=[
            MinValueValidator(DATA_RETENTION_MIN_DAYS),
            MaxValueValidator(DATA_RETENTION_MAX_DAYS),
        ],
        verbose_name=_("Keep operational history for (days)"),
        help_text=_(
            "Amazon API calls, sync runs and purchase order events older than this are "
            "exported to a downloadable archive and removed from the database."
        ),
    )

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

    # The template walks these, not ``before.items``: a snapshot with a key
    # named "items" would make the template read that key instead.
    @property
    def before_pairs(self) -> list[tuple[str, object]]:
        return list((self.before or {}).items())

    @property
    def after_pairs(self) -> list[tuple[str, object]]:
        return list((self.after or {}).items())


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


class TaskFailureStatus(models.TextChoices):
    OPEN = "open", _("Open")
    RESOLVED = "resolved", _("Resolved")


class PlatformTaskFailure(TimestampedModel):
    """A failing Celery task that belongs to no tenant (dispatchers,
    housekeeping), or whose tenant could not be entered.

    Platform operators read these in Django admin; there is no tenant
    column, so row-level security does not hide them. One open row per
    task name and arguments: a periodic task failing every minute bumps
    ``failure_count`` instead of adding rows.
    """

    task_name = models.CharField(max_length=200)
    # The task name plus a hash of its arguments (see
    # acorn.monitoring.task_failures.task_subject).
    subject_key = models.CharField(max_length=250)
    status = models.CharField(
        max_length=10, choices=TaskFailureStatus.choices, default=TaskFailureStatus.OPEN
    )
    failure_count = models.PositiveIntegerField(default=1)
    first_failed_at = models.DateTimeField()
    last_failed_at = models.DateTimeField()
    last_task_id = models.CharField(max_length=100, blank=True)
    last_error_type = models.CharField(max_length=200, blank=True)
    last_error_message = models.CharField(max_length=1000, blank=True)
    # The tenant id the task named, when it could not be entered (deleted
    # or inactive tenant); a plain number, not a foreign key.
    tenant_ref = models.BigIntegerField(null=True, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-last_failed_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["subject_key"],
                condition=models.Q(status="open"),
                name="platform_task_failure_one_open",
            ),
        ]

    def __str__(self):
        return f"{self.task_name} x{self.failure_count}"


class ImportJobStatus(models.TextChoices):
    QUEUED = "queued", _("Queued")
    RUNNING = "running", _("Running")
    SUCCEEDED = "succeeded", _("Finished")
    FAILED = "failed", _("Failed")


class ImportJob(TenantModel):
    """A file import run by the worker (large uploads), with its progress.

    The upload is kept in the row (bounded by ``acorn.dataio``'s upload
    limit) so any worker on any host can read it; it is cleared when the
    job ends.
    """

    kind = models.CharField(max_length=64)
    filename = models.CharField(max_length=300)
    content = models.BinaryField(editable=False)
    apply = models.BooleanField(default=False)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    status = models.CharField(
        max_length=10, choices=ImportJobStatus.choices, default=ImportJobStatus.QUEUED
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    rows_read = models.PositiveIntegerField(default=0)
    error = models.CharField(max_length=500, blank=True)
    result = models.JSONField(default=dict, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["tenant", "kind", "-created_at"], name="import_job_recent")
        ]

    def __str__(self):
        return f"{self.kind} {self.filename}"

    @property
    def is_done(self) -> bool:
        return self.status in (ImportJobStatus.SUCCEEDED, ImportJobStatus.FAILED)


# The notification centre's tables (acorn/notifications/).
from acorn.notifications.models import (  # noqa: E402,F401
    Notification,
    NotificationKind,
    NotificationPreference,
)
