"""Downloads, retry and settings pages of invoice documents."""

import io

import pytest
from django.urls import reverse
from PIL import Image

from acorn.models import AuditEntry, Role
from acorn.tenancy import tenant_scope
from invoicing.documents.render import invoice_render
from invoicing.models import DocumentSettings, InvoiceRendering, RenderingStatus
from invoicing.tests import einvoice_validation as validation
from invoicing.tests.document_cases import issued_case


def _body(response) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


@pytest.mark.django_db
def test_pdf_and_xml_download_with_their_content_types_and_checksums(member_client, tenant_a):
    invoice = issued_case(tenant_a, "eu_domestic_s", lines=2)
    rendering = invoice_render(tenant=tenant_a, invoice_id=invoice.pk, language="zh-Hans")
    viewer = member_client(tenant_a, Role.VIEWER)
    pdf = viewer.get(reverse("invoicing:invoice_pdf", args=[tenant_a.slug, invoice.pk,
                                                            "zh-Hans"]))
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
    assert f'filename="{invoice.number}-zh-Hans.pdf"' in pdf["Content-Disposition"]
    assert pdf["X-Content-SHA256"] == rendering.pdf_sha256
    pdf_bytes = _body(pdf)
    validation.assert_valid_pdf(pdf_bytes)
    xml = viewer.get(reverse("invoicing:invoice_xml", args=[tenant_a.slug, invoice.pk,
                                                            "zh-Hans"]))
    assert xml.status_code == 200 and xml["Content-Type"] == "application/xml"
    assert _body(xml) == validation.embedded_xml(pdf_bytes)
    # Not rendered in German, unknown language: 404.
    for language in ("de", "xx"):
        url = reverse("invoicing:invoice_pdf", args=[tenant_a.slug, invoice.pk, language])
        assert viewer.get(url).status_code == 404


@pytest.mark.django_db
def test_the_documents_block_shows_links_and_a_failed_rendering_with_retry(member_client,
                                                                          tenant_a):
    invoice = issued_case(tenant_a, "eu_domestic_s", lines=1)
    invoice_render(tenant=tenant_a, invoice_id=invoice.pk, language="en")
    with tenant_scope(tenant_a):
        InvoiceRendering.objects.create(tenant=tenant_a, invoice=invoice, language="fr",
                                        status=RenderingStatus.FAILED,
                                        reason="Rendering took longer than 60 s")
    ops = member_client(tenant_a, Role.OPERATIONS)
    page = ops.get(reverse("invoicing:invoice_documents", args=[tenant_a.slug, invoice.pk]))
    html = page.content.decode()
    assert page.status_code == 200
    assert reverse("invoicing:invoice_pdf", args=[tenant_a.slug, invoice.pk, "en"]) in html
    assert "Rendering took longer than 60 s" in html and "Retry" in html
    # Retry (Celery eager in tests: the task runs on commit of the request).
    render_url = reverse("invoicing:invoice_render", args=[tenant_a.slug, invoice.pk])
    with django_capture_on_commit():
        response = ops.post(render_url, {"language": "fr"})
    assert response.status_code == 302
    with tenant_scope(tenant_a):
        fr = InvoiceRendering.objects.get(invoice=invoice, language="fr")
        assert AuditEntry.objects.filter(summary__contains="documents (fr) requested").exists()
    assert fr.status == RenderingStatus.OK and fr.reason == ""


def django_capture_on_commit():
    from django.test import TestCase

    return TestCase.captureOnCommitCallbacks(execute=True)


@pytest.mark.django_db
def test_viewers_cannot_re_render(member_client, tenant_a):
    invoice = issued_case(tenant_a, "eu_domestic_s", lines=1)
    viewer = member_client(tenant_a, Role.VIEWER)
    url = reverse("invoicing:invoice_render", args=[tenant_a.slug, invoice.pk])
    assert viewer.post(url, {"language": "en"}).status_code == 403


@pytest.mark.django_db(transaction=True)
def test_issuing_renders_the_tenants_default_language_after_commit(tenant_a):
    from invoicing.documents.settings import document_settings_set

    document_settings_set(tenant=tenant_a, actor=None, footer_text="", default_language="zh-Hans")
    invoice = issued_case(tenant_a, "uk_s20", lines=1)  # commits; the hook enqueues
    with tenant_scope(tenant_a):
        renderings = list(InvoiceRendering.objects.filter(invoice=invoice))
    assert [(r.language, r.status) for r in renderings] == [("zh-Hans", "ok")]
    with renderings[0].pdf_file.open("rb") as handle:
        validation.assert_valid_pdf(handle.read())


def _png(size=(60, 20)) -> io.BytesIO:
    buffer = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(buffer, format="PNG")
    buffer.seek(0)
    buffer.name = "logo.png"
    return buffer


@pytest.mark.django_db
def test_admin_sets_logo_footer_and_language_and_bad_logos_are_refused(member_client,
                                                                       tenant_a):
    admin = member_client(tenant_a, Role.ADMIN)
    url = reverse("invoicing:document_settings", args=[tenant_a.slug])
    assert admin.get(url).status_code == 200
    fake = io.BytesIO(b"<svg onload='alert(1)'></svg>")
    fake.name = "logo.png"
    refused = admin.post(url, {"logo": fake, "footer_text": "x", "default_language": "de"})
    assert refused.status_code == 200 and "must be a PNG or JPEG" in refused.content.decode()
    big = io.BytesIO(b"\x89PNG" + b"0" * (600 * 1024))
    big.name = "big.png"
    refused = admin.post(url, {"logo": big, "footer_text": "x", "default_language": "de"})
    assert "larger than 512 KB" in refused.content.decode()
    with tenant_scope(tenant_a):
        assert not DocumentSettings.objects.exists()  # nothing half-saved
    saved = admin.post(url, {"logo": _png(), "footer_text": "Amtsgericht Berlin",
                             "default_language": "de"})
    assert saved.status_code == 302
    with tenant_scope(tenant_a):
        settings = DocumentSettings.objects.get()
        assert settings.logo.name.startswith("logos/") and settings.logo.name.endswith(".png")
        assert (settings.footer_text, settings.default_language) == ("Amtsgericht Berlin", "de")
        assert AuditEntry.objects.filter(summary="Invoice document settings saved").exists()


@pytest.mark.django_db
def test_operations_staff_cannot_change_document_settings(member_client, tenant_a):
    ops = member_client(tenant_a, Role.OPERATIONS)
    url = reverse("invoicing:document_settings", args=[tenant_a.slug])
    assert ops.get(url).status_code == 403
