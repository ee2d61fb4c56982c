"""Dashboard views of invoice documents: downloads, (re-)rendering, settings."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext_lazy as _
from django.views import View
from PIL import Image, UnidentifiedImageError

from acorn.exceptions import ApplicationError
from acorn.models import Role
from acorn.views import TenantViewMixin
from invoicing.documents import render as documents
from invoicing.documents import selectors
from invoicing.documents.settings import document_settings_set
from invoicing.models import DocumentLanguage, InvoiceStatus, RenderingStatus

LOGO_MAX_BYTES = 512 * 1024
LOGO_MAX_PIXELS = 4000 * 4000
LOGO_FORMATS = {"PNG": "png", "JPEG": "jpg"}


def _language(value: str) -> str:
    if value not in DocumentLanguage.values:
        raise Http404("No such language.")
    return value


class InvoiceDocumentsView(TenantViewMixin, View):
    """The invoice's documents: status per language, downloads, retry."""

    def get(self, request, tenant_slug, invoice_id):
        invoice = selectors.invoice_get(tenant=self.tenant, invoice_id=invoice_id)
        if invoice is None:
            raise Http404("No such invoice.")
        return render(request, "invoicing/invoice_documents.html", {"invoice": invoice})


class InvoiceRenderView(TenantViewMixin, View):
    """POST: (re-)render an invoice's documents in one language."""

    action_role = Role.OPERATIONS

    def post(self, request, tenant_slug, invoice_id):
        language = _language(request.POST.get("language", ""))
        invoice = selectors.invoice_get(tenant=self.tenant, invoice_id=invoice_id)
        if invoice is None:
            raise Http404("No such invoice.")
        if invoice.status != InvoiceStatus.ISSUED:
            messages.error(request, _("Only issued documents are rendered."))
        else:
            try:
                documents.rendering_request(
                    tenant=self.tenant, invoice_id=invoice.pk, language=language,
                    actor=request.user, force=True)
            except ApplicationError as exc:
                messages.error(request, exc.message)
            else:
                messages.success(request, _("Rendering requested."))
        return redirect("invoicing:invoice_documents", tenant_slug=tenant_slug,
                        invoice_id=invoice.pk)


class _DownloadView(TenantViewMixin, View):
    field = ""
    content_type = ""
    extension = ""

    def get(self, request, tenant_slug, invoice_id, language):
        rendering = selectors.rendering_get(
            tenant=self.tenant, invoice_id=invoice_id, language=_language(language))
        if rendering is None or rendering.status != RenderingStatus.OK:
            raise Http404("This document has not been rendered.")
        stored = getattr(rendering, self.field)
        try:
            handle = stored.open("rb")
        except FileNotFoundError:
            raise Http404("The stored file is missing; render it again.") from None
        filename = f"{rendering.invoice.number}-{language}.{self.extension}"
        response = FileResponse(handle, content_type=self.content_type, as_attachment=True,
                                filename=filename)
        response["X-Content-SHA256"] = getattr(rendering, f"{self.field[:3]}_sha256")
        return response


class InvoicePdfView(_DownloadView):
    field = "pdf_file"
    content_type = "application/pdf"
    extension = "pdf"


class InvoiceXmlView(_DownloadView):
    field = "xml_file"
    content_type = "application/xml"
    extension = "xml"


class DocumentSettingsForm(forms.Form):
    logo = forms.FileField(
        required=False, label=_("Logo"),
        help_text=_("PNG or JPEG, at most 512 KB. Printed at the top of every invoice."))
    remove_logo = forms.BooleanField(required=False, label=_("Remove the logo"))
    footer_text = forms.CharField(
        required=False, max_length=1000, widget=forms.Textarea(attrs={"rows": 4}),
        label=_("Legal footer"),
        help_text=_("Register court and number, managing directors, share capital..."))
    default_language = forms.ChoiceField(
        choices=DocumentLanguage.choices, label=_("Default document language"),
        help_text=_("Issued invoices are rendered in this language; others on request."))

    def clean_logo(self):
        upload = self.cleaned_data.get("logo")
        if not upload:
            return None
        if upload.size > LOGO_MAX_BYTES:
            raise ValidationError(_("The logo is larger than 512 KB."))
        try:
            upload.seek(0)
            with Image.open(upload) as image:
                image_format = image.format
                width, height = image.size
                image.verify()
        except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
            raise ValidationError(_("The logo must be a PNG or JPEG image.")) from None
        if image_format not in LOGO_FORMATS:
            raise ValidationError(_("The logo must be a PNG or JPEG image."))
        if width * height > LOGO_MAX_PIXELS:
            raise ValidationError(_("The logo has too many pixels (at most 4000 x 4000)."))
        upload.seek(0)
        upload.acorn_extension = LOGO_FORMATS[image_format]
        return upload


class DocumentSettingsView(TenantViewMixin, View):
    """Admins set the logo, legal footer and default language of invoices."""

    required_role = Role.ADMIN
    action_role = Role.ADMIN

    def get(self, request, tenant_slug, form=None):
        current = documents.document_settings_get(tenant=self.tenant)
        form = form or DocumentSettingsForm(initial={
            "footer_text": current.footer_text, "default_language": current.default_language})
        return render(request, "invoicing/document_settings.html",
                      {"form": form, "current": current})

    def post(self, request, tenant_slug):
        form = DocumentSettingsForm(request.POST, request.FILES)
        if not form.is_valid():
            return self.get(request, tenant_slug, form=form)
        data = form.cleaned_data
        logo = data["logo"]
        document_settings_set(
            tenant=self.tenant, actor=request.user, footer_text=data["footer_text"],
            default_language=data["default_language"],
            logo_content=logo.read() if logo else None,
            logo_extension=getattr(logo, "acorn_extension", ""),
            remove_logo=data["remove_logo"])
        messages.success(request, _("Document settings saved."))
        return redirect("invoicing:document_settings", tenant_slug=tenant_slug)
