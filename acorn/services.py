"""Writes of the platform kernel: tenants, members, API keys, audit."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.db import transaction

from acorn.exceptions import ApplicationError
from acorn.fields import EncryptedTextField
from acorn.models import (
    AuditAction,
    AuditEntry,
    Membership,
    Role,
    Tenant,
    TenantAPIKey,
)
from acorn.tenancy import require_tenant_id, tenant_scope

REDACTED = "[redacted]"
# Field names whose values never reach the audit log, whatever their type.
SECRET_FIELD_HINTS = ("secret", "password", "token", "private_key", "api_key", "hashed_key")


def model_update(*, instance, fields: list[str], data: dict) -> tuple[object, bool]:
    """Set whitelisted ``fields`` from ``data``; save only what changed."""
    changed = []
    for field in fields:
        if field not in data:
            continue
        if getattr(instance, field) != data[field]:
            setattr(instance, field, data[field])
            changed.append(field)
    if changed:
        instance.full_clean()
        if any(f.name == "updated_at" for f in instance._meta.concrete_fields):
            changed.append("updated_at")
        instance.save(update_fields=changed)
    return instance, bool(changed)


def audit_snapshot(instance) -> dict:
    """The instance's field values as JSON-safe data, secrets redacted."""
    secret_names = {
        field.name
        for field in instance._meta.concrete_fields
        if isinstance(field, EncryptedTextField)
        or any(hint in field.name for hint in SECRET_FIELD_HINTS)
    }
    snapshot = {}
    for field in instance._meta.concrete_fields:
        name = field.name
        if name in ("created_at", "updated_at", "created"):
            continue
        value = field.value_from_object(instance)
        if name in secret_names:
            snapshot[name] = REDACTED if value else ""
        elif isinstance(value, (str, int, bool, float)) or value is None:
            snapshot[name] = value
        else:
            snapshot[name] = str(value)
    return snapshot


def audit_record(
    *,
    actor,
    action: str,
    instance=None,
    object_type: str = "",
    object_id: str = "",
    object_repr: str = "",
    summary: str = "",
    before: dict | None = None,
    after: dict | None = None,
) -> AuditEntry:
    """Write one audit entry in the current tenant."""
    if instance is not None:
        object_type = object_type or instance._meta.label
        object_id = object_id or str(instance.pk)
        object_repr = object_repr or str(instance)[:300]
    before = before or {}
    after = after or {}
    # Only what changed is kept for updates: the log stays readable.
    if action == AuditAction.UPDATE:
        keys = sorted(k for k in set(before) | set(after) if before.get(k) != after.get(k))
        before = {k: before.get(k) for k in keys}
        after = {k: after.get(k) for k in keys}
    entry = AuditEntry(
        tenant_id=require_tenant_id(),
        actor=actor if getattr(actor, "pk", None) else None,
        actor_label=(getattr(actor, "get_username", lambda: "")() or "system")[:200],
        action=action,
        object_type=object_type[:100],
        object_id=object_id[:64],
        object_repr=object_repr[:300],
        summary=summary[:300],
        before=before,
        after=after,
    )
    entry.full_clean()
    entry.save()
    return entry


@transaction.atomic
def tenant_create(*, slug: str, name: str, timezone: str = "UTC", currency: str = "USD") -> Tenant:
    tenant = Tenant(slug=slug, name=name, timezone=timezone, default_currency=currency)
    tenant.full_clean()
    tenant.save()
    return tenant


@transaction.atomic
def membership_set(*, tenant: Tenant, user, role: str, actor=None) -> Membership:
    """Give ``user`` ``role`` in ``tenant`` (create or change), audited."""
    if role not in Role.values:
        raise ApplicationError(f"Unknown role {role!r}.", {"role": role})
    membership = Membership.objects.filter(tenant=tenant, user=user).first()
    with tenant_scope(tenant):
        if membership is None:
            membership = Membership(tenant=tenant, user=user, role=role)
            membership.full_clean()
            membership.save()
            audit_record(
                actor=actor,
                action=AuditAction.CREATE,
                instance=membership,
                after=audit_snapshot(membership),
                summary=f"{user} joined as {role}",
            )
        elif membership.role != role:
            before = audit_snapshot(membership)
            model_update(instance=membership, fields=["role"], data={"role": role})
            audit_record(
                actor=actor,
                action=AuditAction.UPDATE,
                instance=membership,
                before=before,
                after=audit_snapshot(membership),
            )
    return membership


@transaction.atomic
def user_create(*, username: str, password: str, email: str = "") -> object:
    from django.contrib.auth.password_validation import validate_password

    user_model = get_user_model()
    user = user_model(username=username, email=email)
    validate_password(password, user)
    user.set_password(password)
    user.full_clean()
    user.save()
    return user


@transaction.atomic
def api_key_create(
    *, tenant: Tenant, name: str, actor=None, scopes: list[str] | None = None
) -> tuple[TenantAPIKey, str]:
    """Create a key; the plaintext is returned once and never stored."""
    scopes = scopes or ["read"]
    api_key, plaintext = TenantAPIKey.objects.create_key(
        name=name,
        tenant=tenant,
        scopes=scopes,
        created_by=actor if getattr(actor, "pk", None) else None,
    )
    with tenant_scope(tenant):
        audit_record(
            actor=actor,
            action=AuditAction.CREATE,
            instance=api_key,
            object_repr=f"{api_key.name} ({api_key.prefix})",
            after={"name": name, "prefix": api_key.prefix, "scopes": scopes},
            summary="API key created",
        )
    return api_key, plaintext


@transaction.atomic
def api_key_revoke(*, tenant: Tenant, api_key_id: int, actor=None) -> TenantAPIKey:
    api_key = TenantAPIKey.objects.filter(tenant=tenant, pk=api_key_id).first()
    if api_key is None:
        from acorn.exceptions import NotFoundError

        raise NotFoundError("No such API key.")
    if not api_key.revoked:
        api_key.revoked = True
        api_key.save(update_fields=["revoked", "updated_at"])
        with tenant_scope(tenant):
            audit_record(
                actor=actor,
                action=AuditAction.ACTION,
                instance=api_key,
                object_repr=f"{api_key.name} ({api_key.prefix})",
                before={"revoked": False},
                after={"revoked": True},
                summary="API key revoked",
            )
    return api_key


# --- Failed platform tasks (acorn.monitoring.task_failures) ----------------


def platform_task_failure_record(
    *, task_name: str, subject_key: str, task_id: str, error_type: str, error_message: str,
    tenant_ref: int | None = None,
):
    """Open the record of a failing platform task, or count one more failure.

    One open row per subject (a partial unique constraint); a racing first
    failure in another worker finds the winner's row and counts on it.
    """
    from django.db import IntegrityError
    from django.utils import timezone

    from acorn.models import PlatformTaskFailure, TaskFailureStatus

    now = timezone.now()
    for _attempt in range(2):
        try:
            with transaction.atomic():
                failure = (
                    PlatformTaskFailure.objects.select_for_update()
                    .filter(subject_key=subject_key[:250], status=TaskFailureStatus.OPEN)
                    .first()
                )
                if failure is None:
                    failure = PlatformTaskFailure(
                        task_name=task_name[:200], subject_key=subject_key[:250],
                        first_failed_at=now, failure_count=0,
                    )
                failure.failure_count += 1
                failure.last_failed_at = now
                failure.last_task_id = task_id[:100]
                failure.last_error_type = error_type[:200]
                failure.last_error_message = error_message[:1000]
                failure.tenant_ref = tenant_ref
                failure.save()
                return failure
        except IntegrityError:
            continue
    raise RuntimeError(f"could not record the failure of {task_name}")


@transaction.atomic
def platform_task_failure_resolve(*, subject_key: str) -> int:
    from django.utils import timezone

    from acorn.models import PlatformTaskFailure, TaskFailureStatus

    now = timezone.now()
    return PlatformTaskFailure.objects.filter(
        subject_key=subject_key[:250], status=TaskFailureStatus.OPEN
    ).update(status=TaskFailureStatus.RESOLVED, resolved_at=now, updated_at=now)


@transaction.atomic
def tenant_retention_update(*, tenant: Tenant, data_retention_days: int, actor=None) -> Tenant:
    """An admin sets how long operational history stays in the database."""
    with tenant_scope(tenant):
        before = {"data_retention_days": tenant.data_retention_days}
        _tenant, changed = model_update(
            instance=tenant, fields=["data_retention_days"],
            data={"data_retention_days": data_retention_days},
        )
        if changed:
            audit_record(
                actor=actor, action=AuditAction.UPDATE, instance=tenant, before=before,
                after={"data_retention_days": tenant.data_retention_days},
                summary="Data retention changed",
            )
    return tenant
