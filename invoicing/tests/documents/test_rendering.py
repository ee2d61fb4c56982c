"""Every generated document, through the whole pipeline, passes the battery:
record -> Document -> XML -> PDF/A-3b -> storage -> validators."""

import hashlib
import shutil
import subprocess

import pytest

from acorn.tenancy import tenant_scope
from invoicing.documents.render import document_settings_get, invoice_render
from invoicing.documents.settings import document_settings_set
from invoicing.models import InvoiceRendering, RenderingStatus
from invoicing.tests import einvoice_validation as validation
from invoicing.tests.document_cases import CASES, issued_case, issued_credit_note

CHINESE = "龙井绿茶"


def _stored(rendering):
    with rendering.pdf_file.open("rb") as pdf, rendering.xml_file.open("rb") as xml:
        return pdf.read(), xml.read()


def _pdf_text(pdf_bytes, tmp_path) -> str:
    path = tmp_path / "document.pdf"
    path.write_bytes(pdf_bytes)
    return subprocess.run([shutil.which("pdftotext"), "-layout", str(path), "-"],
                          capture_output=True, check=True, text=True).stdout


def _render_and_check(tenant, invoice, language):
    rendering = invoice_render(tenant=tenant, invoice_id=invoice.pk, language=language)
    assert rendering.status == RenderingStatus.OK, rendering.reason
    pdf_bytes, xml_bytes = _stored(rendering)
    assert hashlib.sha256(pdf_bytes).hexdigest() == rendering.pdf_sha256
    assert hashlib.sha256(xml_bytes).hexdigest() == rendering.xml_sha256
    assert (rendering.pdf_size, rendering.xml_size) == (len(pdf_bytes), len(xml_bytes))
    validation.assert_valid_pdf(pdf_bytes)
    validation.assert_valid_xml(xml_bytes)
    # The stored XML is the one inside the PDF.
    assert validation.embedded_xml(pdf_bytes) == xml_bytes
    assert validation.embedded_mime(pdf_bytes) == "text/xml"
    return rendering, pdf_bytes, xml_bytes


@pytest.mark.django_db
@pytest.mark.parametrize("case", sorted(CASES))
@pytest.mark.parametrize("language", ["en", "zh-Hans"])
def test_every_tax_case_renders_valid_documents_in_english_and_chinese(
        tenant_a, case, language, tmp_path):
    invoice = issued_case(tenant_a, case)
    _rendering, pdf_bytes, xml_bytes = _render_and_check(tenant_a, invoice, language)
    text = _pdf_text(pdf_bytes, tmp_path)
    # No tofu: the Chinese item names come back out of the PDF as text.
    assert CHINESE in text
    assert invoice.number in text
    assert ("发票" in text) is (language == "zh-Hans")
    assert f"<ram:ID>{invoice.number}</ram:ID>".encode() in xml_bytes


@pytest.mark.django_db
@pytest.mark.parametrize("language", ["en", "zh-Hans", "de", "fr"])
def test_a_credit_note_is_type_381_and_names_the_invoice_it_corrects(tenant_a, language,
                                                                      tmp_path):
    original = issued_case(tenant_a, "eu_domestic_s", lines=1)
    note = issued_credit_note(tenant_a, original)
    _rendering, pdf_bytes, xml_bytes = _render_and_check(tenant_a, note, language)
    assert b"<ram:TypeCode>381</ram:TypeCode>" in xml_bytes
    assert f"<ram:IssuerAssignedID>{original.number}</ram:IssuerAssignedID>".encode() \
        in xml_bytes
    text = _pdf_text(pdf_bytes, tmp_path)
    title = {"en": "Credit note", "zh-Hans": "贷项通知单", "de": "Gutschrift",
             "fr": "Avoir"}[language]
    assert title in text and original.number in text


@pytest.mark.django_db
def test_intra_community_and_us_documents_carry_their_tax_rules(tenant_a):
    k = issued_case(tenant_a, "eu_intra_community_k", lines=1)
    _r, _pdf, k_xml = _render_and_check(tenant_a, k, "en")
    assert b"<ram:ExemptionReasonCode>VATEX-EU-IC</ram:ExemptionReasonCode>" in k_xml
    assert b"<ram:CountryID>PL</ram:CountryID>" in k_xml  # BT-80, ship-to
    assert b'schemeID="VA">LU26375245<' in k_xml  # buyer VAT (BR-IC-02)
    us = issued_case(tenant_a, "us_o", lines=1)
    _r, _pdf, us_xml = _render_and_check(tenant_a, us, "en")
    assert b'schemeID="VA"' not in us_xml  # BR-O-02: no VAT numbers outside VAT
    assert b'schemeID="FC">603-123-456<' in us_xml  # the US sales tax permit


@pytest.mark.django_db
def test_german_and_french_labels_and_money_in_the_currencys_conventions(tenant_a, tmp_path):
    invoice = issued_case(tenant_a, "eu_domestic_s", lines=1)
    _r, de_pdf, _x = _render_and_check(tenant_a, invoice, "de")
    _r, fr_pdf, _x = _render_and_check(tenant_a, invoice, "fr")
    de_text, fr_text = _pdf_text(de_pdf, tmp_path), _pdf_text(fr_pdf, tmp_path)
    total = invoice.tax_inclusive_total  # 12 x 7.45 + 25 - 10 = 104.40 net, +19 %
    assert "Rechnung" in de_text and "Zahlbetrag" in de_text
    assert f"{total:.2f}".replace(".", ",") + " EUR" in de_text
    assert "Facture" in fr_text and "Net à payer" in fr_text
    assert f"{total:.2f}".replace(".", ",") + " EUR" in fr_text


@pytest.mark.django_db
def test_re_rendering_an_issued_invoice_gives_the_same_bytes_in_the_same_place(tenant_a):
    invoice = issued_case(tenant_a, "uk_s20", lines=2)
    first = invoice_render(tenant=tenant_a, invoice_id=invoice.pk, language="en")
    again = invoice_render(tenant=tenant_a, invoice_id=invoice.pk, language="en", force=True)
    assert again.pk == first.pk and again.attempts == 2
    assert (again.pdf_file.name, again.pdf_sha256, again.xml_sha256) == (
        first.pdf_file.name, first.pdf_sha256, first.xml_sha256)
    reused = invoice_render(tenant=tenant_a, invoice_id=invoice.pk, language="en")
    assert reused.attempts == 2  # ok and stored: reused, not rendered again
    with tenant_scope(tenant_a):
        assert InvoiceRendering.objects.filter(invoice=invoice).count() == 1


@pytest.mark.django_db
def test_the_tenants_logo_and_footer_are_printed(tenant_a, tmp_path):
    from PIL import Image

    buffer = tmp_path / "logo.png"
    Image.new("RGB", (120, 40), (20, 120, 60)).save(buffer, format="PNG")
    document_settings_set(tenant=tenant_a, actor=None, footer_text="Amtsgericht Berlin HRB 1",
                          default_language="de", logo_content=buffer.read_bytes(),
                          logo_extension="png")
    invoice = issued_case(tenant_a, "eu_domestic_s", lines=1)
    _r, pdf_bytes, _x = _render_and_check(tenant_a, invoice, "de")
    assert "Amtsgericht Berlin HRB 1" in _pdf_text(pdf_bytes, tmp_path)
    import io

    import pikepdf
    with pikepdf.open(io.BytesIO(pdf_bytes)) as pdf:
        assert len(pdf.pages[0].get_images()) == 1
    with tenant_scope(tenant_a):
        assert document_settings_get(tenant=tenant_a).default_language == "de"


@pytest.mark.django_db
def test_a_draft_or_a_broken_record_leaves_a_visible_failed_rendering(tenant_a):
    from invoicing.tests.factories import InvoiceLineFactory

    with tenant_scope(tenant_a):
        draft = InvoiceLineFactory(invoice__tenant=tenant_a).invoice
    failed = invoice_render(tenant=tenant_a, invoice_id=draft.pk, language="en")
    assert failed.status == RenderingStatus.FAILED
    assert "issued" in failed.reason
    # A logo lost from storage: failed with the reason, nothing stored.
    invoice = issued_case(tenant_a, "eu_domestic_s", lines=1)
    with tenant_scope(tenant_a):
        from invoicing.models import DocumentSettings
        DocumentSettings.objects.create(tenant=tenant_a, logo="logos/gone.png")
    failed = invoice_render(tenant=tenant_a, invoice_id=invoice.pk, language="en")
    assert failed.status == RenderingStatus.FAILED
    assert "logo" in failed.reason and not failed.pdf_file and not failed.pdf_sha256


def test_the_product_refuses_xml_the_factur_x_schema_refuses():
    from invoicing.documents.render import DocumentInvalid, xml_schema_check

    with pytest.raises(DocumentInvalid, match="Factur-X schema"):
        xml_schema_check(b'<rsm:CrossIndustryInvoice xmlns:rsm="urn:un:unece:uncefact:'
                         b'data:standard:CrossIndustryInvoice:100"/>')
