"""The validation battery for every generated invoice document (test-only).

It reads the official artefacts in ``shared/einvoice-validation`` (next to
the repository; the product never does): the Factur-X 1.09.2 EN16931 XSD,
the Factur-X EN16931 Schematron and the CEN EN 16931 CII Schematron (both
compiled XSLT, run by saxonche). A missing folder raises, so CI without
the artefacts fails instead of skipping. Recipe: shared/docs/invoicing.md §3.1.

``pdf_problems(pdf_bytes)`` and ``xml_problems(xml_bytes)`` return a list
of problems (empty: valid); ``assert_valid_pdf``/``assert_valid_xml`` raise
with all of them.
"""

from __future__ import annotations

import functools
import io
import re
import threading
from dataclasses import dataclass
from pathlib import Path

import pikepdf
from lxml import etree

FX_NS = "urn:factur-x:pdfa:CrossIndustryDocument:invoice:1p0#"
SVRL_NS = "http://purl.oclc.org/dsdl/svrl"
MIME_RE = re.compile(r"^[-\w+.]+/[-\w+.]+$")
# BT-24 -> XMP fx:ConformanceLevel (invoicing.md §2.1).
PROFILES = {
    "urn:factur-x.eu:1p0:minimum": "MINIMUM",
    "urn:factur-x.eu:1p0:basicwl": "BASIC WL",
    "urn:cen.eu:en16931:2017#compliant#urn:factur-x.eu:1p0:basic": "BASIC",
    "urn:cen.eu:en16931:2017": "EN 16931",
    "urn:cen.eu:en16931:2017#conformant#urn:factur-x.eu:1p0:extended": "EXTENDED",
}
LEVEL_FOLDERS = {"MINIMUM": "MINIMUM", "BASIC WL": "BASIC-WL", "BASIC": "BASIC",
                 "EN 16931": "EN16931", "EXTENDED": "EXTENDED"}
# The CEN rules apply to the profiles that are EN 16931 invoices.
CEN_LEVELS = {"BASIC", "EN 16931", "EXTENDED"}


class ValidationDataMissing(RuntimeError):
    pass


def validation_dir() -> Path:
    start = Path(__file__).resolve()
    for folder in start.parents:
        candidate = folder / "shared" / "einvoice-validation"
        if candidate.is_dir():
            return candidate
    raise ValidationDataMissing(
        "shared/einvoice-validation not found next to the repository: the e-invoice "
        "validation artefacts are required by the tests (see shared/docs/invoicing.md)."
    )


@dataclass(frozen=True)
class Assertion:
    source: str  # "facturx" | "cen"
    rule: str
    flag: str
    text: str

    @property
    def is_error(self) -> bool:
        # The Factur-X XSLTs omit @flag: that counts as an error (invoicing.md §3).
        return self.flag in ("", "fatal", "error")

    def __str__(self):
        return f"{self.source} {self.rule} [{self.flag or 'no flag'}]: {self.text}"


_saxon_lock = threading.Lock()


@functools.cache
def _saxon():
    from saxonche import PySaxonProcessor

    return PySaxonProcessor(license=False)


@functools.cache
def _stylesheet(path: str):
    processor = _saxon()
    return processor.new_xslt30_processor().compile_stylesheet(stylesheet_file=path)


@functools.cache
def _schema(level: str) -> etree.XMLSchema:
    folder = LEVEL_FOLDERS[level]
    path = validation_dir() / "facturx-1.09.2" / "xsd" / folder / f"FACTUR-X_{folder}.xsd"
    return etree.XMLSchema(etree.parse(str(path)))


def schematron_assertions(xml_text: str, xslt: Path, source: str) -> list[Assertion]:
    if not xslt.is_file():
        raise ValidationDataMissing(f"{xslt} is missing.")
    with _saxon_lock:
        executable = _stylesheet(str(xslt))
        node = _saxon().parse_xml(xml_text=xml_text)
        svrl = executable.transform_to_string(xdm_node=node)
    report = etree.fromstring(svrl.encode("utf-8"))
    found = []
    for failed in report.iter(f"{{{SVRL_NS}}}failed-assert", f"{{{SVRL_NS}}}successful-report"):
        text = " ".join("".join(failed.itertext()).split())
        if failed.tag.endswith("successful-report") and not failed.get("flag"):
            continue  # reports without a flag are informational
        found.append(Assertion(source, failed.get("id", ""), failed.get("flag", ""), text))
    return found


def profile_level(xml_bytes: bytes) -> str:
    tree = etree.fromstring(xml_bytes)
    ids = tree.xpath(
        "/rsm:CrossIndustryInvoice/rsm:ExchangedDocumentContext/"
        "ram:GuidelineSpecifiedDocumentContextParameter/ram:ID/text()",
        namespaces={"rsm": "urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100",
                    "ram": "urn:un:unece:uncefact:data:standard:"
                           "ReusableAggregateBusinessInformationEntity:100"})
    return PROFILES.get(ids[0].strip() if ids else "", "")


def xml_problems(xml_bytes: bytes, *, warnings: list | None = None) -> list[str]:
    """XSD + Factur-X Schematron + CEN Schematron; warnings go to ``warnings``."""
    base = validation_dir()
    xml_text = xml_bytes.decode("utf-8-sig")
    clean = xml_text.encode("utf-8")
    try:
        document = etree.fromstring(clean)
    except etree.XMLSyntaxError as exc:
        return [f"not well-formed: {exc}"]
    level = profile_level(clean)
    if not level:
        return ["BT-24 names no Factur-X profile"]
    problems = []
    schema = _schema(level)
    if not schema.validate(document):
        problems += [f"XSD: {error.message} (line {error.line})" for error in schema.error_log]
    folder = LEVEL_FOLDERS[level]
    checks = [(base / "facturx-1.09.2" / "schematron-xslt" / f"FACTUR-X_{folder}.xslt",
               "facturx")]
    if level in CEN_LEVELS:
        checks.append((base / "en16931" / "cii" / "xslt" / "EN16931-CII-validation.xslt", "cen"))
    for xslt, source in checks:
        for assertion in schematron_assertions(xml_text, xslt, source):
            if assertion.is_error:
                problems.append(str(assertion))
            elif warnings is not None:
                warnings.append(str(assertion))
    return problems


def _fonts(resources, seen: set) -> list:
    """Every font dictionary reachable from a resource dictionary."""
    found = []
    if resources is None or resources.objgen in seen and resources.objgen != (0, 0):
        return found
    seen.add(resources.objgen)
    fonts = resources.get("/Font")
    if fonts is not None:
        for _name, font in fonts.items():
            found.append(font)
            if font.get("/Subtype") == "/Type3" and font.get("/Resources") is not None:
                found += _fonts(font.Resources, seen)
    xobjects = resources.get("/XObject")
    if xobjects is not None:
        for _name, xobject in xobjects.items():
            if xobject.get("/Subtype") == "/Form" and xobject.get("/Resources") is not None:
                found += _fonts(xobject.Resources, seen)
    return found


def _font_problems(pdf: pikepdf.Pdf) -> list[str]:
    problems = []
    seen: set = set()
    fonts = []
    for page in pdf.pages:
        fonts += _fonts(page.obj.get("/Resources"), seen)
    if not fonts:
        problems.append("no fonts found (the page shows no text?)")
    for font in fonts:
        if font.get("/Subtype") == "/Type3":
            continue
        descendants = (list(font.DescendantFonts) if font.get("/Subtype") == "/Type0"
                       else [font])
        for descendant in descendants:
            descriptor = descendant.get("/FontDescriptor")
            if descriptor is None or not any(
                    key in descriptor for key in ("/FontFile", "/FontFile2", "/FontFile3")):
                problems.append(f"font {descendant.get('/BaseFont')} is not embedded")
    return problems


def pdf_problems(pdf_bytes: bytes, *, expect_level: str = "EN 16931") -> list[str]:
    """The PDF/A-3 + Factur-X container checks (invoicing.md §3.1 step 1)."""
    problems: list[str] = []
    with pikepdf.open(io.BytesIO(pdf_bytes)) as pdf:
        if pdf.is_encrypted:
            problems.append("encrypted")
        root = pdf.Root
        if "/Metadata" not in root:
            return problems + ["no XMP /Metadata"]
        raw = root.Metadata.read_bytes().decode("utf-8", "replace")
        if raw.count("<rdf:RDF") != 1:
            problems.append(f"XMP has {raw.count('<rdf:RDF')} rdf:RDF elements, not one")
        if "xmlns:fx=" not in raw:
            problems.append("XMP does not declare the fx prefix")
        meta = pdf.open_metadata()
        if meta.get("pdfaid:part") != "3":
            problems.append(f"pdfaid:part is {meta.get('pdfaid:part')!r}, not 3")
        if meta.get("pdfaid:conformance") not in ("A", "B", "U"):
            problems.append(f"pdfaid:conformance is {meta.get('pdfaid:conformance')!r}")
        expected_fx = {"DocumentType": "INVOICE", "DocumentFileName": "factur-x.xml",
                       "Version": "1.0", "ConformanceLevel": expect_level}
        for key, value in expected_fx.items():
            if meta.get(f"{{{FX_NS}}}{key}") != value:
                problems.append(f"fx:{key} is {meta.get(f'{{{FX_NS}}}{key}')!r}, not {value!r}")
        # The extension schema that declares the fx properties (PDF/A rule 6.6.2.3).
        xmp = etree.fromstring(root.Metadata.read_bytes())
        uris = xmp.xpath("//*[local-name()='namespaceURI' and "
                         "namespace-uri()='http://www.aiim.org/pdfa/ns/schema#']/text()")
        if FX_NS not in [u.strip() for u in uris]:
            problems.append("no PDF/A extension schema for the fx namespace")
        else:
            names = set(xmp.xpath(
                "//*[local-name()='name' and "
                "namespace-uri()='http://www.aiim.org/pdfa/ns/property#']/text()"))
            missing = set(expected_fx) - names
            if missing:
                problems.append(f"extension schema lacks {sorted(missing)}")
        intents = root.get("/OutputIntents")
        if intents is None or len(intents) != 1:
            problems.append("not exactly one /OutputIntents entry")
        else:
            intent = intents[0]
            if intent.get("/S") != "/GTS_PDFA1" or "/DestOutputProfile" not in intent:
                problems.append("output intent is not GTS_PDFA1 with a profile")
        if "/ID" not in pdf.trailer:
            problems.append("no trailer /ID")
        names_tree = root.get("/Names")
        if names_tree is not None and "/JavaScript" in names_tree:
            problems.append("document JavaScript in /Names")
        if "/AA" in root:
            problems.append("catalog /AA (additional actions)")
        open_action = root.get("/OpenAction")
        if isinstance(open_action, pikepdf.Dictionary) and open_action.get("/S") == "/JavaScript":
            problems.append("JavaScript /OpenAction")
        for page in pdf.pages:
            if "/AA" in page.obj:
                problems.append("page /AA (additional actions)")
            for _name, image in page.get_images().items():
                if image.get("/Interpolate") is True:
                    problems.append("image with /Interpolate true")
        problems += _font_problems(pdf)
        attachment = pdf.attachments.get("factur-x.xml")
        if attachment is None:
            return problems + ["no factur-x.xml attachment"]
        filespec = attachment.obj
        af = [item.objgen for item in root.get("/AF", [])]
        if filespec.objgen not in af:
            problems.append("the factur-x.xml filespec is not in the catalog /AF")
        if filespec.get("/AFRelationship") not in ("/Data", "/Alternative", "/Source"):
            problems.append(f"/AFRelationship is {filespec.get('/AFRelationship')}")
        for key in ("/F", "/UF"):
            if key not in filespec:
                problems.append(f"filespec lacks {key}")
        embedded = filespec.EF.F
        subtype = str(embedded.get("/Subtype", ""))[1:].replace("#2F", "/")
        if not MIME_RE.match(subtype):
            problems.append(f"embedded file MIME type {subtype!r} is not valid")
        if "/Params" not in embedded or "/ModDate" not in embedded.Params:
            problems.append("embedded file lacks /Params/ModDate")
        xml_bytes = attachment.get_file().read_bytes()
    level = profile_level(xml_bytes.decode("utf-8-sig").encode("utf-8"))
    if level != expect_level:
        problems.append(f"BT-24 profile {level!r} differs from fx:ConformanceLevel")
    return problems


def embedded_xml(pdf_bytes: bytes) -> bytes:
    with pikepdf.open(io.BytesIO(pdf_bytes)) as pdf:
        return pdf.attachments["factur-x.xml"].get_file().read_bytes()


def embedded_mime(pdf_bytes: bytes) -> str:
    with pikepdf.open(io.BytesIO(pdf_bytes)) as pdf:
        subtype = pdf.attachments["factur-x.xml"].obj.EF.F.get("/Subtype")
        return str(subtype)[1:].replace("#2F", "/")


def assert_valid_xml(xml_bytes: bytes) -> None:
    problems = xml_problems(xml_bytes)
    assert not problems, "\n".join(problems)


def assert_valid_pdf(pdf_bytes: bytes, *, expect_level: str = "EN 16931") -> None:
    """Container checks, then the embedded XML through the whole XML battery."""
    problems = pdf_problems(pdf_bytes, expect_level=expect_level)
    problems += xml_problems(embedded_xml(pdf_bytes))
    assert not problems, "\n".join(problems)
