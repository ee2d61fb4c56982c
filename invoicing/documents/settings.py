"""Writes of the tenant's document settings (logo, footer, language)."""

from __future__ import annotations

import hashlib

from django.core.files.base import ContentFile
from django.db import transaction

from acorn.models import AuditAction
from acorn.services import audit_record
from acorn.tenancy import tenant_scope
from invoicing.models import DocumentSettings


@transaction.atomic
def document_settings_set(*, tenant, actor, footer_text: str, default_language: str,
                          logo_content: bytes | None = None, logo_extension: str = "",
                          remove_logo: bool = False) -> DocumentSettings:
    """Save the settings; a new logo replaces the old file (validated by the form)."""
    with tenant_scope(tenant):
        settings, _created = DocumentSettings.objects.select_for_update().get_or_create(
            tenant=tenant)
        before = {"footer_text": settings.footer_text,
                  "default_language": settings.default_language, "logo": settings.logo.name}
        settings.footer_text = footer_text
        settings.default_language = default_language
        if (remove_logo or logo_content) and settings.logo:
            settings.logo.delete(save=False)
        if logo_content:
            digest = hashlib.sha256(logo_content).hexdigest()[:16]
            settings.logo.save(f"{tenant.pk}-{digest}.{logo_extension or 'png'}",
                               ContentFile(logo_content), save=False)
        settings.save()
        audit_record(actor=actor, action=AuditAction.UPDATE, instance=settings,
                     summary="Invoice document settings saved", before=before,
                     after={"footer_text": settings.footer_text,
                            "default_language": settings.default_language,
                            "logo": settings.logo.name})
    return settings
