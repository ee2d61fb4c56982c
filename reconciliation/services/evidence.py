"""Evidence for a dispute (vendor-domain.md §5: BOL / proof of delivery,
carton SSCCs, the ASN as sent, the invoice): uploads kept in Django storage
with their checksum, and the pack as a page and a downloadable zip."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import zipfile

from django.core.files.base import ContentFile
from django.db import transaction
from django.utils.translation import gettext as _

from acorn.exceptions import ApplicationError
from acorn.models import AuditAction
from acorn.services import audit_record
from reconciliation.deduction_models import Deduction, EvidenceDocument, EvidenceKind

MAX_EVIDENCE_BYTES = 10 * 1024 * 1024
# Accepted by content, not by name: the first bytes decide.
_SIGNATURES = [
    (b"%PDF-", "application/pdf"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"II*\x00", "image/tiff"),
    (b"MM\x00*", "image/tiff"),
]


def evidence_content_type(data: bytes) -> str | None:
    for signature, content_type in _SIGNATURES:
        if data.startswith(signature):
            return content_type
    return None


@transaction.atomic
def evidence_upload(*, tenant, deduction_id: int, kind: str, data: bytes, filename: str,
                    actor) -> EvidenceDocument:
    deduction = Deduction.objects.filter(tenant=tenant, pk=deduction_id).first()
    if deduction is None:
        raise ApplicationError(_("No such deduction."))
    if kind not in EvidenceKind.values:
        raise ApplicationError(_("Unknown evidence kind."))
    if not data:
        raise ApplicationError(_("The file is empty."))
    if len(data) > MAX_EVIDENCE_BYTES:
        raise ApplicationError(_("The file is larger than %(limit)d MB.") % {
            "limit": MAX_EVIDENCE_BYTES // (1024 * 1024)})
    content_type = evidence_content_type(data)
    if content_type is None:
        raise ApplicationError(_("Upload a PDF, PNG, JPEG or TIFF file."))
    digest = hashlib.sha256(data).hexdigest()
    existing = EvidenceDocument.objects.filter(tenant=tenant, deduction=deduction,
                                               sha256=digest).first()
    if existing is not None:
        return existing
    document = EvidenceDocument(
        tenant=tenant, deduction=deduction, kind=kind, sha256=digest, size_bytes=len(data),
        content_type=content_type, original_name=os.path.basename(filename or digest)[:255],
        uploaded_by=actor if getattr(actor, "pk", None) else None)
    document.file.save(digest, ContentFile(data), save=False)
    document.save()
    audit_record(actor=actor, action=AuditAction.CREATE, instance=document,
                 summary=f"Evidence {kind} for {deduction.reference}",
                 after={"sha256": digest, "size": len(data)})
    return document


def evidence_zip(*, pack: dict, documents: list[EvidenceDocument]) -> bytes:
    """The pack as one zip: manifest, ASN JSON, cartons and receiving as
    CSV, the invoice PDF when rendered, and every upload (with checksums)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        manifest = {key: pack[key] for key in ("deduction", "invoice", "purchase_order",
                                               "shipment")}
        manifest["uploads"] = [{"name": d.original_name, "kind": d.kind, "sha256": d.sha256,
                                "size_bytes": d.size_bytes} for d in documents]
        archive.writestr("manifest.json", json.dumps(manifest, indent=2, default=str))
        if pack["asn_payload"] is not None:
            archive.writestr("asn.json", json.dumps(pack["asn_payload"], indent=2, default=str))
        cartons = io.StringIO()
        writer = csv.writer(cartons)
        writer.writerow(["sequence", "sscc", "pallet_sscc", "tracking_number"])
        for carton in pack["cartons"]:
            writer.writerow([carton["sequence"], carton["sscc"], carton["pallet_sscc"],
                             carton["tracking_number"]])
        archive.writestr("cartons.csv", cartons.getvalue())
        receiving = io.StringIO()
        writer = csv.writer(receiving)
        writer.writerow(["item", "asin", "ordered", "accepted", "shipped", "received", "short",
                         "receive_status"])
        for line in pack["receiving"]:
            writer.writerow([line["item"], line["asin"], line["ordered"], line["accepted"],
                             line["shipped"], line["received"], line["short"],
                             line["receive_status"]])
        archive.writestr("receiving.csv", receiving.getvalue())
        if pack.get("invoice_pdf") is not None:
            archive.writestr("invoice.pdf", pack["invoice_pdf"])
        for document in documents:
            with document.file.open("rb") as handle:
                archive.writestr(f"uploads/{document.pk}-{document.original_name}", handle.read())
    return buffer.getvalue()
