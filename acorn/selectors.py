"""Reads of the platform kernel."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.db.models import QuerySet
from django.utils import timezone

from acorn.models import AuditEntry, Invitation, Membership, Tenant, TenantAPIKey


def membership_list_for_user(*, user) -> QuerySet[Membership]:
    """The tenants a user may enter (the switcher); active tenants only."""
    return (
        Membership.objects.filter(user=user, tenant__is_active=True)
        .select_related("tenant")
        .order_by("tenant__name", "id")
    )


def membership_get(*, user, tenant_slug: str) -> Membership | None:
    if not getattr(user, "is_authenticated", False):
        return None
    return (
        Membership.objects.filter(user=user, tenant__slug=tenant_slug, tenant__is_active=True)
        .select_related("tenant")
        .first()
    )


def membership_list(*, tenant: Tenant) -> QuerySet[Membership]:
    return (
        Membership.objects.filter(tenant=tenant).select_related("user").order_by("user__username")
    )


def audit_entry_list(*, tenant: Tenant, filters: dict | None = None) -> QuerySet[AuditEntry]:
    filters = filters or {}
    queryset = AuditEntry.objects.filter(tenant=tenant).select_related("actor")
    if filters.get("object_type"):
        queryset = queryset.filter(object_type=filters["object_type"])
    if filters.get("action"):
        queryset = queryset.filter(action=filters["action"])
    if filters.get("actor"):
        queryset = queryset.filter(actor_label__icontains=filters["actor"])
    return queryset.order_by("-created_at", "-id")


def api_key_list(*, tenant: Tenant) -> QuerySet[TenantAPIKey]:
    return TenantAPIKey.objects.filter(tenant=tenant).order_by("-created", "-id")


def invitation_list_open(*, tenant: Tenant) -> QuerySet[Invitation]:
    """Invitations that can still be accepted, newest first."""
    return (
        Invitation.objects.filter(
            tenant=tenant, accepted_at=None, revoked_at=None, expires_at__gt=timezone.now()
        )
        .select_related("invited_by")
        .order_by("-created_at", "-id")
    )


def user_exists(*, email: str) -> bool:
    return get_user_model().objects.filter(username__iexact=email.strip()).exists()


def user_unverified_get(*, email: str):
    """The signed-up user still waiting to confirm ``email``, if any."""
    return (
        get_user_model()
        .objects.filter(username__iexact=email.strip(), is_active=False, last_login=None)
        .first()
    )
