"""The validation battery is itself tested: the official samples pass it,
deliberately broken invoices and containers fail it."""

import datetime as dt
import io

import pikepdf
import pytest
from lxml import etree

from acorn.tenancy import tenant_scope
from invoicing.document import document_from_invoice
from invoicing.documents import pdf as pdf_builder
from invoicing.documents.xml import NS, invoice_xml
from invoicing.tests import einvoice_validation as validation
from invoicing.tests.document_cases import issued_case

SAMPLES = validation.validation_dir() / "samples"
STAMP = dt.datetime(2026, 12, 1, tzinfo=dt.UTC)


def test_the_validation_data_is_required_not_skipped():
    # A missing folder is an error in CI, never a skip.
    assert (validation.validation_dir() / "facturx-1.09.2" / "xsd" / "EN16931").is_dir()


@pytest.mark.parametrize("name", sorted(p.name for p in SAMPLES.glob("*.xml")))
def test_every_official_sample_xml_passes(name):
    assert validation.xml_problems((SAMPLES / name).read_bytes()) == []


@pytest.mark.parametrize("name", sorted(p.name for p in SAMPLES.glob("*.pdf")))
def test_every_official_sample_pdf_passes(name):
    content = (SAMPLES / name).read_bytes()
    xml = validation.embedded_xml(content)
    level = validation.profile_level(xml.decode("utf-8-sig").encode())
    assert validation.pdf_problems(content, expect_level=level) == []
    assert validation.xml_problems(xml) == []


def _edit(xml: bytes, xpath: str, value: str | None) -> bytes:
    tree = etree.fromstring(xml)
    for element in tree.xpath(xpath, namespaces=NS):
        if value is None:
            element.getparent().remove(element)
        else:
            element.text = value
    return etree.tostring(tree, xml_declaration=True, encoding="UTF-8")


def _xml(tenant, case):
    invoice = issued_case(tenant, case, lines=2)
    with tenant_scope(tenant):
        return invoice_xml(document_from_invoice(invoice))


@pytest.mark.django_db
@pytest.mark.parametrize(("case", "xpath", "value", "rule"), [
    ("eu_domestic_s", "//ram:GrandTotalAmount", "9999.99", "BR-CO-15"),
    ("eu_domestic_s", "//ram:InvoiceCurrencyCode", "EUX", "BR-CL-04"),
    ("eu_domestic_s", "//ram:SellerTradeParty/ram:PostalTradeAddress/ram:CountryID", "XX",
     "BR-CL-14"),
    ("eu_intra_community_k", "//ram:ShipToTradeParty/ram:PostalTradeAddress/ram:CountryID",
     None, "BR-IC-12"),
])
def test_broken_invoices_fail_with_the_rule_that_catches_them(tenant_a, case, xpath, value,
                                                              rule):
    good = _xml(tenant_a, case)
    assert validation.xml_problems(good) == []
    broken = _edit(good, xpath, value)
    problems = validation.xml_problems(broken)
    assert any(rule in problem for problem in problems), problems


@pytest.mark.django_db
def test_a_wrong_total_passes_the_xsd_but_not_the_schematron(tenant_a):
    broken = _edit(_xml(tenant_a, "eu_domestic_s"), "//ram:TaxTotalAmount", "1.00")
    schema = validation._schema("EN 16931")
    assert schema.validate(etree.fromstring(broken))  # XSDs check no arithmetic
    assert validation.xml_problems(broken)


@pytest.mark.django_db
def test_a_plain_pdf_and_the_documented_xmp_route_both_fail(tenant_a, tmp_path):
    from weasyprint import HTML, Attachment

    invoice = issued_case(tenant_a, "eu_domestic_s", lines=1)
    with tenant_scope(tenant_a):
        document = document_from_invoice(invoice)
    xml = invoice_xml(document)
    html = pdf_builder.invoice_html(document, language="en")
    plain = HTML(string=html).write_pdf()
    problems = validation.pdf_problems(plain)
    assert "no XMP /Metadata" in problems
    # The documented xmp_metadata list appends a second rdf:RDF: fx vanishes.
    rdf = etree.tostring(etree.Element("{http://www.w3.org/1999/02/22-rdf-syntax-ns#}RDF"))
    rdf = rdf.replace(b"/>", b">" + b"".join(
        pdf_builder.tostring(d) for d in pdf_builder.fx_descriptions()) + b"</rdf:RDF>")
    (tmp_path / "rdf.xml").write_bytes(rdf)
    rendered = HTML(string=html).render()
    rendered.metadata.attachments = [Attachment(string=xml, name="factur-x.xml",
                                                relationship="Data")]
    documented = rendered.write_pdf(pdf_variant="pdf/a-3b",
                                    xmp_metadata=[str(tmp_path / "rdf.xml")])
    problems = validation.pdf_problems(documented)
    assert any("rdf:RDF elements, not one" in p for p in problems), problems
    assert any("fx:DocumentType" in p for p in problems), problems
    # And ours passes.
    ours = pdf_builder.pdf_from_html(html, xml_bytes=xml, stamp=STAMP)
    assert validation.pdf_problems(ours) == []


@pytest.mark.django_db
def test_an_attachment_without_relationship_or_with_javascript_fails(tenant_a):
    invoice = issued_case(tenant_a, "eu_domestic_s", lines=1)
    with tenant_scope(tenant_a):
        document = document_from_invoice(invoice)
    good = pdf_builder.invoice_pdf(document, xml_bytes=invoice_xml(document), language="en",
                                   stamp=STAMP)
    with pikepdf.open(io.BytesIO(good)) as pdf:
        del pdf.attachments["factur-x.xml"].obj["/AFRelationship"]
        pdf.Root.OpenAction = pikepdf.Dictionary(S=pikepdf.Name.JavaScript, JS="app.alert(1)")
        out = io.BytesIO()
        pdf.save(out)
    problems = validation.pdf_problems(out.getvalue())
    assert "/AFRelationship is None" in problems
    assert "JavaScript /OpenAction" in problems
