"""The PDF/A-3b of one Document, with its factur-x.xml embedded.

WeasyPrint renders the tenant's HTML template as ``pdf/a-3b`` and attaches
the XML with ``AFRelationship /Data`` (MIME text/xml from the .xml name).
The Factur-X XMP (the fx: properties and the PDF/A extension schema that
declares them) is merged into WeasyPrint's own rdf:RDF by overriding
``DocumentMetadata.generate_rdf_metadata`` (shared/docs/invoicing.md §1.4):
the documented ``xmp_metadata`` route writes a second rdf:RDF that XMP
readers ignore. This keeps one render pass (facturx.generate_from_binary
would re-write the whole file afterwards).

Fonts: DejaVu Sans for Latin text and Noto Sans CJK SC for Chinese, both
installed by scripts/system-packages.sh and found through fontconfig;
WeasyPrint embeds a subset of every font it uses.
"""

from __future__ import annotations

import base64
import datetime as dt
from xml.etree.ElementTree import Element, SubElement, fromstring, register_namespace, tostring

from django.template.loader import render_to_string

from invoicing.document import Document
from invoicing.documents import labels as document_labels
from invoicing.documents.xml import CONFORMANCE_LEVEL, FILE_NAME, party_tax_ids

FX_NS = "urn:factur-x:pdfa:CrossIndustryDocument:invoice:1p0#"
RDF_NS = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
XMP_NAMESPACES = {
    "fx": FX_NS,
    "pdfaExtension": "http://www.aiim.org/pdfa/ns/extension/",
    "pdfaSchema": "http://www.aiim.org/pdfa/ns/schema#",
    "pdfaProperty": "http://www.aiim.org/pdfa/ns/property#",
}
for _prefix, _uri in XMP_NAMESPACES.items():
    # Validators check the "fx" prefix, not only the namespace.
    register_namespace(_prefix, _uri)
FX_PROPERTIES = (
    ("DocumentFileName", "The name of the embedded XML document"),
    ("DocumentType", "The type of the hybrid document in capital letters, e.g. INVOICE"),
    ("Version", "The actual version of the standard applying to the embedded XML document"),
    ("ConformanceLevel", "The conformance level of the embedded XML document"),
)
TEMPLATE = "invoicing/document/invoice.html"
LOGO_TYPES = {"png": "image/png", "jpeg": "image/jpeg", "jpg": "image/jpeg"}


def _q(prefix: str, name: str) -> str:
    return f"{{{RDF_NS if prefix == 'rdf' else XMP_NAMESPACES[prefix]}}}{name}"


def fx_descriptions() -> list[Element]:
    """The two rdf:Descriptions: the fx values and the extension schema."""
    values = Element(_q("rdf", "Description"), {_q("rdf", "about"): ""})
    for name, text in (("DocumentType", "INVOICE"), ("DocumentFileName", FILE_NAME),
                       ("Version", "1.0"), ("ConformanceLevel", CONFORMANCE_LEVEL)):
        SubElement(values, _q("fx", name)).text = text
    schema = Element(_q("rdf", "Description"), {_q("rdf", "about"): ""})
    bag = SubElement(SubElement(schema, _q("pdfaExtension", "schemas")), _q("rdf", "Bag"))
    item = SubElement(bag, _q("rdf", "li"), {_q("rdf", "parseType"): "Resource"})
    SubElement(item, _q("pdfaSchema", "schema")).text = "Factur-X PDFA Extension Schema"
    SubElement(item, _q("pdfaSchema", "namespaceURI")).text = FX_NS
    SubElement(item, _q("pdfaSchema", "prefix")).text = "fx"
    sequence = SubElement(SubElement(item, _q("pdfaSchema", "property")), _q("rdf", "Seq"))
    for name, description in FX_PROPERTIES:
        prop = SubElement(sequence, _q("rdf", "li"), {_q("rdf", "parseType"): "Resource"})
        SubElement(prop, _q("pdfaProperty", "name")).text = name
        SubElement(prop, _q("pdfaProperty", "valueType")).text = "Text"
        SubElement(prop, _q("pdfaProperty", "category")).text = "external"
        SubElement(prop, _q("pdfaProperty", "description")).text = description
    return [values, schema]


def fx_xmp_install(rendered) -> None:
    """Make WeasyPrint write the fx block inside its one rdf:RDF."""
    original = rendered.metadata.generate_rdf_metadata

    def merged(variant, version, conformance):
        # WeasyPrint's own output, not untrusted input.
        rdf = fromstring(original(variant, version, conformance))  # noqa: S314
        rdf.extend(fx_descriptions())
        return tostring(rdf, encoding="utf-8")

    rendered.metadata.generate_rdf_metadata = merged


def logo_data_uri(content: bytes | None, extension: str) -> str:
    if not content:
        return ""
    mime = LOGO_TYPES.get(extension.lower().lstrip("."), "image/png")
    return f"data:{mime};base64,{base64.b64encode(content).decode('ascii')}"


def invoice_html(document: Document, *, language: str, logo_uri: str = "",
                 footer: str = "") -> str:
    """The HTML of the printed document (the tenant's template and labels)."""
    labels = document_labels.labels_for(language)
    currency = document.currency

    def money(value):
        return document_labels.money_format(value, currency, language)

    return render_to_string(TEMPLATE, {
        "doc": document,
        "language": language,
        "labels": labels,
        "title": labels[document.kind],
        "logo_uri": logo_uri,
        "footer": footer,
        "seller_ids": party_tax_ids(document, document.seller),
        "buyer_ids": party_tax_ids(document, document.buyer),
        "lines": [
            {"line": line, "unit_price": document_labels.price_format(
                line.net_unit_cost, currency, language),
             "amount": money(line.line_net_amount),
             "unit": labels.get(f"unit_{line.unit_of_measure}", line.unit_of_measure),
             "rate": "" if line.tax_category == "O" else f"{line.tax_rate.normalize():f} %"}
            for line in document.lines
        ],
        "extras": [
            {"item": item, "amount": money(item.amount),
             "label": labels["charge" if item.is_charge else "allowance"]}
            for item in document.allowance_charges
        ],
        "taxes": [
            {"subtotal": t, "category": labels.get(f"category_{t.category}", t.category),
             "taxable": money(t.taxable_amount), "tax": money(t.tax_amount),
             "rate": "" if t.category == "O" else f"{t.rate.normalize():f} %"}
            for t in document.tax_subtotals
        ],
        "totals": [
            (labels["line_total"], money(document.line_total)),
            *([(labels["allowance"], money(document.allowance_total))]
              if document.allowance_total else []),
            *([(labels["charge"], money(document.charge_total))]
              if document.charge_total else []),
            (labels["tax_exclusive"], money(document.tax_exclusive_total)),
            (labels["tax_total"], money(document.tax_total)),
            (labels["tax_inclusive"], money(document.tax_inclusive_total)),
        ],
        "amount_due": money(document.amount_due),
    })


def pdf_from_html(html: str, *, xml_bytes: bytes, stamp: dt.datetime) -> bytes:
    """PDF/A-3b of ``html`` with ``xml_bytes`` attached as factur-x.xml.

    ``stamp`` dates the attachment, so the same input gives the same bytes.
    """
    from weasyprint import HTML, Attachment

    rendered = HTML(string=html).render()
    rendered.metadata.attachments = [Attachment(
        string=xml_bytes, name=FILE_NAME, description="Factur-X invoice (EN 16931)",
        relationship="Data", created=stamp, modified=stamp,
    )]
    fx_xmp_install(rendered)
    return rendered.write_pdf(pdf_variant="pdf/a-3b")


def invoice_pdf(document: Document, *, xml_bytes: bytes, language: str,
                logo_uri: str = "", footer: str = "", stamp: dt.datetime) -> bytes:
    html = invoice_html(document, language=language, logo_uri=logo_uri, footer=footer)
    return pdf_from_html(html, xml_bytes=xml_bytes, stamp=stamp)
