"""Writes of the platform kernel: tenants, members, API keys, audit."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.contrib.auth.tokens import PasswordResetTokenGenerator
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.encoding import force_bytes, force_str
from django.utils.http import urlsafe_base64_decode, urlsafe_base64_encode
from django.utils.text import slugify
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from acorn.exceptions import (
    ApplicationError,
    ConflictError,
    NotFoundError,
    PermissionDeniedError,
)
from acorn.fields import EncryptedTextField
from acorn.models import (
    AuditAction,
    AuditEntry,
    Invitation,
    Membership,
    PlatformTaskFailure,
    Role,
    TaskFailureStatus,
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
    # Inside the tenant's scope: row-level security lets only the tenant
    # read and write its memberships (acorn/rls.py).
    with tenant_scope(tenant):
        membership = Membership.objects.filter(tenant=tenant, user=user).first()
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
            if membership.role == Role.ADMIN:
                _ensure_another_admin(tenant=tenant, leaving=membership)
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
    with tenant_scope(tenant):
        api_key, plaintext = TenantAPIKey.objects.create_key(
            name=name,
            tenant=tenant,
            scopes=scopes,
            created_by=actor if getattr(actor, "pk", None) else None,
        )
        audit_record(
            actor=actor,
            action=AuditAction.CREATE,
            instance=api_key,
            # The library's primary key embeds the stored hash: name the
            # key by its public prefix instead.
            object_id=api_key.prefix,
            object_repr=f"{api_key.name} ({api_key.prefix})",
            after={"name": name, "prefix": api_key.prefix, "scopes": scopes},
            summary="API key created",
        )
    return api_key, plaintext


@transaction.atomic
def api_key_revoke(*, tenant: Tenant, prefix: str, actor=None) -> TenantAPIKey:
    """Revoke the tenant's key with this public ``prefix``.

    The prefix names a key everywhere outside the library: its primary key
    is "<prefix>.<hash>", and the hash must never reach a page or a form.
    """
    # Key rows are readable and writable in their tenant's scope only.
    with tenant_scope(tenant):
        api_key = TenantAPIKey.objects.filter(tenant=tenant, prefix=prefix).first()
    if api_key is None:

        raise NotFoundError("No such API key.")
    if not api_key.revoked:
        with tenant_scope(tenant):
            api_key.revoked = True
            api_key.save(update_fields=["revoked", "updated_at"])
            audit_record(
                actor=actor,
                action=AuditAction.ACTION,
                instance=api_key,
                object_id=api_key.prefix,
                object_repr=f"{api_key.name} ({api_key.prefix})",
                before={"revoked": False},
                after={"revoked": True},
                summary="API key revoked",
            )
    return api_key


# --- Members: the last admin stays -----------------------------------------

LAST_ADMIN_MESSAGE = gettext_noop(
    "A tenant needs at least one admin: make someone else admin first."
)


def _ensure_another_admin(*, tenant: Tenant, leaving: Membership) -> None:
    """Refuse to remove or demote ``leaving`` if it is the last admin.

    The tenant's admin rows are locked first, so two admins demoting each
    other at the same moment cannot both succeed.
    """
    admins = list(
        Membership.objects.select_for_update()
        .filter(tenant=tenant, role=Role.ADMIN)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    if admins == [leaving.pk]:
        raise ConflictError(_(LAST_ADMIN_MESSAGE), {"membership_id": leaving.pk})


@transaction.atomic
def membership_remove(*, tenant: Tenant, membership_id: int, actor=None) -> None:
    """Remove a member from ``tenant`` (never the last admin), audited."""
    membership = (
        Membership.objects.select_related("user").filter(tenant=tenant, pk=membership_id).first()
    )
    if membership is None:
        raise NotFoundError(_("No such member."))
    if membership.role == Role.ADMIN:
        _ensure_another_admin(tenant=tenant, leaving=membership)
    with tenant_scope(tenant):
        audit_record(
            actor=actor,
            action=AuditAction.DELETE,
            instance=membership,
            before=audit_snapshot(membership),
            summary=f"{membership.user} removed",
        )
    membership.delete()


# --- Sign-up ------------------------------------------------------------------


class EmailVerificationTokenGenerator(PasswordResetTokenGenerator):
    """Django's signed, expiring password-reset token, salted for sign-up.

    The hash covers ``is_active`` and the e-mail address, so a link stops
    working once the account is verified or its address changes. Links
    expire after ``PASSWORD_RESET_TIMEOUT`` (3 days by default).
    """

    key_salt = "acorn.services.EmailVerificationTokenGenerator"

    def _make_hash_value(self, user, timestamp):
        return f"{user.pk}{user.is_active}{user.email}{timestamp}"


email_verification_token = EmailVerificationTokenGenerator()


def _unique_tenant_slug(name: str) -> str:
    # Chinese and other non-Latin company names slugify to nothing; the
    # slug is only a URL part, the name is what people read.
    base = (slugify(name) or "brand")[:40].strip("-") or "brand"
    slug, suffix = base, 2
    while Tenant.objects.filter(slug=slug).exists():
        slug = f"{base}-{suffix}"
        suffix += 1
    return slug


def email_normalise(email: str) -> str:
    return email.strip().lower()


@transaction.atomic
def tenant_signup(*, company_name: str, email: str, password: str) -> tuple[Tenant, object]:
    """Register a company: a new tenant, and its first admin, unverified.

    The user cannot log in (``is_active`` is off) until the e-mailed link
    is followed (``signup_verify``). The e-mail address is the username.
    """
    email = email_normalise(email)
    user_model = get_user_model()
    if user_model.objects.filter(username__iexact=email).exists():
        raise ConflictError(
            _("An account with this e-mail address already exists. Log in instead.")
        )
    user = user_model(username=email, email=email, is_active=False)
    validate_password(password, user)
    user.set_password(password)
    user.full_clean()
    user.save()
    tenant = tenant_create(slug=_unique_tenant_slug(company_name), name=company_name.strip())
    with tenant_scope(tenant):
        membership = Membership(tenant=tenant, user=user, role=Role.ADMIN)
        membership.full_clean()
        membership.save()
        audit_record(
            actor=user,
            action=AuditAction.CREATE,
            instance=tenant,
            object_type="acorn.Tenant",
            after={"slug": tenant.slug, "name": tenant.name, "admin": email},
            summary="Tenant signed up",
        )
    return tenant, user


def signup_verification_send(*, user, verify_url_for) -> None:
    """E-mail the verification link; ``verify_url_for(uid, token)`` builds it."""
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    link = verify_url_for(uid, email_verification_token.make_token(user))
    context = {"user": user, "link": link}
    send_mail(
        subject=_("Confirm your e-mail address for ACORN"),
        message=render_to_string("acorn/email/verify_email.txt", context),
        from_email=settings.DEFAULT_FROM_EMAIL,
        recipient_list=[user.email],
    )


@transaction.atomic
def signup_verify(*, uid: str, token: str):
    """Activate the account the link was sent for; return the user.

    Raises NotFoundError for a malformed, expired or already used link.
    """
    user_model = get_user_model()
    try:
        user_id = int(force_str(urlsafe_base64_decode(uid)))
        user = user_model.objects.select_for_update().get(pk=user_id)
    except (ValueError, TypeError, OverflowError, user_model.DoesNotExist):
        user = None
    if user is None or not email_verification_token.check_token(user, token):
        raise NotFoundError(_("This confirmation link is invalid or has expired."))
    user.is_active = True
    user.save(update_fields=["is_active"])
    return user


@transaction.atomic
def tenant_set_active(*, tenant: Tenant, active: bool, actor=None) -> Tenant:
    """Platform staff enable or disable a tenant; disabled tenants are closed
    to their members (404) and their API keys (401). Audited in the tenant."""
    if tenant.is_active != active:
        tenant.is_active = active
        tenant.save(update_fields=["is_active", "updated_at"])
        with tenant_scope(tenant):
            audit_record(
                actor=actor,
                action=AuditAction.ACTION,
                instance=tenant,
                before={"is_active": not active},
                after={"is_active": active},
                summary="Tenant enabled" if active else "Tenant disabled",
            )
    return tenant


# --- Invitations -----------------------------------------------------------------

# A week: long enough for a colleague on holiday, short enough that a
# forwarded link does not stay a way in for months.
INVITATION_VALID_FOR = timedelta(days=7)


def invitation_token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@transaction.atomic
def invitation_create(
    *, tenant: Tenant, email: str, role: str, actor, accept_url_for
) -> Invitation:
    """Invite ``email`` to ``tenant`` as ``role`` and e-mail the link.

    ``accept_url_for(token)`` builds the absolute link. An open invitation
    for the same address is revoked first: only the newest link works.
    """
    email = email_normalise(email)
    if role not in Role.values:
        raise ApplicationError(_("Choose a valid role."), {"role": role})
    if Membership.objects.filter(tenant=tenant, user__email__iexact=email).exists():
        raise ConflictError(_("%(email)s is already a member.") % {"email": email})
    now = timezone.now()
    token = secrets.token_urlsafe(32)
    with tenant_scope(tenant):
        Invitation.objects.filter(
            tenant=tenant, email=email, accepted_at=None, revoked_at=None
        ).update(revoked_at=now, updated_at=now)
        invitation = Invitation(
            tenant=tenant,
            email=email,
            role=role,
            token_hash=invitation_token_hash(token),
            invited_by=actor if getattr(actor, "pk", None) else None,
            expires_at=now + INVITATION_VALID_FOR,
        )
        invitation.full_clean()
        invitation.save()
        audit_record(
            actor=actor,
            action=AuditAction.CREATE,
            instance=invitation,
            after={"email": email, "role": role},
            summary=f"{email} invited as {role}",
        )
    context = {"tenant": tenant, "invitation": invitation, "link": accept_url_for(token)}
    # Sent after commit: a rolled-back invitation must not leave a live link.
    transaction.on_commit(
        lambda: send_mail(
            subject=_("You are invited to %(tenant)s on ACORN") % {"tenant": tenant.name},
            message=render_to_string("acorn/email/invitation.txt", context),
            from_email=settings.DEFAULT_FROM_EMAIL,
            recipient_list=[email],
        )
    )
    return invitation


@transaction.atomic
def invitation_revoke(*, tenant: Tenant, invitation_id: int, actor=None) -> Invitation:
    with tenant_scope(tenant):
        invitation = (
            Invitation.objects.select_for_update().filter(tenant=tenant, pk=invitation_id).first()
        )
        if invitation is None:
            raise NotFoundError(_("No such invitation."))
        if invitation.accepted_at is None and invitation.revoked_at is None:
            invitation.revoked_at = timezone.now()
            invitation.save(update_fields=["revoked_at", "updated_at"])
            audit_record(
                actor=actor,
                action=AuditAction.ACTION,
                instance=invitation,
                summary=f"Invitation for {invitation.email} revoked",
            )
    return invitation


INVITATION_INVALID_MESSAGE = gettext_noop(
    "This invitation link is invalid, was already used, or has expired."
)


def invitation_open_get(*, tenant: Tenant, token: str) -> Invitation:
    """The open invitation behind a link, or NotFoundError."""
    with tenant_scope(tenant):
        invitation = Invitation.objects.filter(
            tenant=tenant, token_hash=invitation_token_hash(token)
        ).first()
    if invitation is None or not invitation.is_open(timezone.now()):
        raise NotFoundError(_(INVITATION_INVALID_MESSAGE))
    return invitation


@transaction.atomic
def invitation_accept(*, tenant: Tenant, token: str, user=None, password: str = ""):
    """Accept an invitation: as the logged-in ``user`` (whose e-mail must
    match), or by creating the account with ``password``. Returns the user.

    The link proves the address, so a new account is active at once.
    """
    user_model = get_user_model()
    with tenant_scope(tenant):
        invitation = (
            Invitation.objects.select_for_update()
            .filter(tenant=tenant, token_hash=invitation_token_hash(token))
            .first()
        )
        if invitation is None or not invitation.is_open(timezone.now()):
            raise NotFoundError(_(INVITATION_INVALID_MESSAGE))
        if user is not None and getattr(user, "is_authenticated", False):
            if email_normalise(user.email or "") != invitation.email:
                raise PermissionDeniedError(
                    _("This invitation is for %(email)s. Log in with that address.")
                    % {"email": invitation.email}
                )
        else:
            if user_model.objects.filter(username__iexact=invitation.email).exists():
                raise ConflictError(
                    _("An account with this e-mail address already exists. Log in to accept.")
                )
            user = user_create(username=invitation.email, email=invitation.email, password=password)
        invitation.accepted_at = timezone.now()
        invitation.accepted_by = user
        invitation.save(update_fields=["accepted_at", "accepted_by", "updated_at"])
    membership_set(tenant=tenant, user=user, role=invitation.role, actor=user)
    return user
# --- Failed platform tasks (acorn.monitoring.task_failures) ----------------


def platform_task_failure_record(
    *, task_name: str, subject_key: str, task_id: str, error_type: str, error_message: str,
    tenant_ref: int | None = None,
):
    """Open the record of a failing platform task, or count one more failure.

    One open row per subject (a partial unique constraint); a racing first
    failure in another worker finds the winner's row and counts on it.
    """


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
