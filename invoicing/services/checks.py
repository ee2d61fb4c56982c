"""The pre-send check: invoice <-> PO <-> ASN, before anything is issued.

Amazon pays only what matches its PO and receipt; anything off becomes a
deduction. Each finding names its level (``block`` stops issuing, ``warn``
is shown), a code, the invoice line (``None`` for the document) and the
values compared. Findings are stored as codes and parameters on
``Invoice.check_results`` and translated when shown (``finding_text``).
"""

from __future__ import annotations

from collections import defaultdict

from django.db import transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from acorn.exceptions import ApplicationError, NotFoundError
from acorn.tenancy import tenant_scope
from channels.selectors.invoicing import (
    purchase_order_lines_for_invoicing,
    shipment_for_invoicing_get,
    shipment_quantities_by_line,
)
from invoicing.models import DocumentKind, Invoice, InvoiceLine, InvoiceStatus

BLOCK = "block"
WARN = "warn"

# code -> message template (English msgid; shown through gettext).
FINDING_MESSAGES = {
    "no_lines": gettext_noop("The invoice has no lines."),
    "line_not_on_po": gettext_noop("Line %(line)s bills nothing on the PO."),
    "po_number_mismatch": gettext_noop(
        "Line %(line)s names PO %(invoiced)s, the invoice is for PO %(po)s."),
    "net_cost_mismatch": gettext_noop(
        "Line %(line)s: net cost %(invoiced)s differs from the acknowledged cost %(po)s."),
    "unit_of_measure_mismatch": gettext_noop(
        "Line %(line)s: unit %(invoiced)s, the PO orders in %(po)s."),
    "case_pack_mismatch": gettext_noop(
        "Line %(line)s: case pack %(invoiced)s, the PO's is %(po)s."),
    "case_pack_product": gettext_noop(
        "Line %(line)s: the PO's case pack %(po)s differs from the product's %(product)s."),
    "quantity_over_acknowledged": gettext_noop(
        "Line %(line)s: %(invoiced)s invoiced in all for PO line %(sequence)s, "
        "only %(acknowledged)s acknowledged."),
    "quantity_over_shipped": gettext_noop(
        "Line %(line)s: %(invoiced)s invoiced, the ASN shipped %(shipped)s."),
    "quantity_under_shipped": gettext_noop(
        "Line %(line)s: %(invoiced)s invoiced, the ASN shipped %(shipped)s."),
    "shipped_not_invoiced": gettext_noop(
        "PO line %(sequence)s shipped %(shipped)s on this ASN but is not invoiced."),
    "asn_rejected": gettext_noop(
        "Amazon rejected the ASN of shipment %(shipment)s: correct it before invoicing."),
    "asn_not_confirmed": gettext_noop(
        "The ASN of shipment %(shipment)s is not confirmed by Amazon yet."),
    "no_seller_tax_number": gettext_noop("The seller has no tax number on this invoice."),
    "no_ship_to_country": gettext_noop(
        "The ship-to party has no country (required for intra-community supplies)."),
    "credit_exceeds_original": gettext_noop(
        "Line %(line)s credits more than is left on the original invoice."),
}
BLOCKED = gettext_noop("The pre-send check found %(count)s blocking problem(s): fix them first.")


def finding_text(finding: dict) -> str:
    """The finding's message in the active language."""
    template = FINDING_MESSAGES.get(finding.get("code"), "")
    if not template:
        return finding.get("message", "")
    try:
        return _(template) % finding.get("params", {})
    except (KeyError, TypeError, ValueError):
        return _(template)


def _finding(level: str, code: str, line, **params) -> dict:
    params = {k: str(v) for k, v in params.items()}
    params["line"] = str(line) if line is not None else "—"
    return {"level": level, "code": code, "line": line, "params": params,
            "message": FINDING_MESSAGES[code] % params}


def _invoiced_elsewhere(*, tenant, invoice, po_line_ids) -> dict[int, int]:
    """Units of each PO line on the tenant's other live invoices."""
    rows = (
        InvoiceLine.objects.filter(
            tenant=tenant, po_line_id__in=po_line_ids, invoice__kind=DocumentKind.INVOICE,
        )
        .exclude(invoice__status=InvoiceStatus.CANCELLED)
        .exclude(invoice_id=invoice.pk)
        .values("po_line_id").annotate(units=Sum("quantity")).order_by("po_line_id")
    )
    return {row["po_line_id"]: row["units"] for row in rows}


def invoice_findings(*, tenant, invoice: Invoice) -> list[dict]:
    """Every finding for one invoice (reads only)."""
    lines = list(invoice.lines.order_by("line_number", "id"))
    if not lines:
        return [_finding(BLOCK, "no_lines", None)]
    findings: list[dict] = []
    if not invoice.seller.get("tax_numbers"):
        findings.append(_finding(WARN, "no_seller_tax_number", None))
    if invoice.tax_profile_id and invoice.tax_profile.category == "K" and not (
            invoice.ship_to.get("address", {}).get("country_code")):
        findings.append(_finding(BLOCK, "no_ship_to_country", None))
    if invoice.kind != DocumentKind.INVOICE:
        return findings
    po_lines = purchase_order_lines_for_invoicing(
        tenant=tenant, line_ids={line.po_line_id for line in lines if line.po_line_id}
    )
    shipped = (shipment_quantities_by_line(tenant=tenant, shipment_id=invoice.shipment_id)
               if invoice.shipment_id else {})
    elsewhere = _invoiced_elsewhere(tenant=tenant, invoice=invoice, po_line_ids=list(po_lines))
    invoiced_here: dict[int, int] = defaultdict(int)
    for line in lines:
        if line.po_line_id:
            invoiced_here[line.po_line_id] += line.quantity
    for line in lines:
        number = line.line_number
        po_line = po_lines.get(line.po_line_id)
        if po_line is None:
            findings.append(_finding(BLOCK, "line_not_on_po", number))
            continue
        po_number = po_line.purchase_order.number
        if line.purchase_order_number and line.purchase_order_number != po_number:
            findings.append(_finding(BLOCK, "po_number_mismatch", number,
                                     invoiced=line.purchase_order_number, po=po_number))
        cost = po_line.ack_net_cost if po_line.ack_net_cost is not None else po_line.net_cost
        if cost is None or line.net_unit_cost != cost:
            findings.append(_finding(BLOCK, "net_cost_mismatch", number,
                                     invoiced=line.net_unit_cost, po=cost))
        if line.unit_of_measure != po_line.order_unit:
            findings.append(_finding(BLOCK, "unit_of_measure_mismatch", number,
                                     invoiced=line.unit_of_measure, po=po_line.order_unit))
        if line.unit_size != po_line.unit_size:
            findings.append(_finding(BLOCK, "case_pack_mismatch", number,
                                     invoiced=line.unit_size, po=po_line.unit_size))
        elif (po_line.order_unit == "Cases" and po_line.product
              and po_line.product.case_pack != po_line.unit_size):
            findings.append(_finding(WARN, "case_pack_product", number,
                                     po=po_line.unit_size, product=po_line.product.case_pack))
        acknowledged = (po_line.amazon_accepted_quantity
                        if po_line.amazon_accepted_quantity is not None
                        else po_line.planned_accept)
        total = invoiced_here[po_line.pk] + elsewhere.get(po_line.pk, 0)
        if total > acknowledged:
            findings.append(_finding(BLOCK, "quantity_over_acknowledged", number,
                                     invoiced=total, acknowledged=acknowledged,
                                     sequence=po_line.item_sequence_number))
        if invoice.shipment_id:
            on_asn = shipped.get(po_line.pk, 0)
            if invoiced_here[po_line.pk] > on_asn:
                findings.append(_finding(BLOCK, "quantity_over_shipped", number,
                                         invoiced=invoiced_here[po_line.pk], shipped=on_asn))
            elif invoiced_here[po_line.pk] < on_asn:
                findings.append(_finding(WARN, "quantity_under_shipped", number,
                                         invoiced=invoiced_here[po_line.pk], shipped=on_asn))
    if invoice.shipment_id:
        shipment = shipment_for_invoicing_get(tenant=tenant, shipment_id=invoice.shipment_id)
        missing = [pk for pk in shipped if pk not in invoiced_here]
        if missing:
            for pk, po_line in purchase_order_lines_for_invoicing(
                    tenant=tenant, line_ids=missing).items():
                if po_line.purchase_order_id == invoice.purchase_order_id:
                    findings.append(_finding(WARN, "shipped_not_invoiced", None,
                                             sequence=po_line.item_sequence_number,
                                             shipped=shipped[pk]))
        if shipment is not None and shipment.status == "failed":
            findings.append(_finding(BLOCK, "asn_rejected", None,
                                     shipment=shipment.shipment_identifier))
        elif shipment is not None and shipment.status == "shipped":
            findings.append(_finding(WARN, "asn_not_confirmed", None,
                                     shipment=shipment.shipment_identifier))
    return findings


@transaction.atomic
def invoice_check(*, tenant, invoice_id: int) -> Invoice:
    """Run the pre-send check and store its findings on the invoice."""
    with tenant_scope(tenant):
        invoice = (Invoice.objects.select_for_update(of=("self",))
                   .select_related("tax_profile").filter(tenant=tenant, pk=invoice_id).first())
        if invoice is None:
            raise NotFoundError(_("No such invoice."))
        findings = invoice_findings(tenant=tenant, invoice=invoice)
        if invoice.kind == DocumentKind.CREDIT_NOTE:
            from invoicing.services.credit_notes import credit_note_bound_findings

            findings += credit_note_bound_findings(tenant=tenant, credit_note=invoice)
        invoice.check_results = findings
        invoice.checked_at = timezone.now()
        invoice.save(update_fields=["check_results", "checked_at", "updated_at"])
    return invoice


def blocking(findings: list[dict]) -> list[dict]:
    return [f for f in findings if f.get("level") == BLOCK]


def invoice_issue_checked(*, tenant, invoice_id: int, actor=None, issue_date=None) -> Invoice:
    """Check, then issue (invoicing.services.invoice_issue: gap-free
    number); refused while a blocking finding exists. Not one transaction
    on purpose: a refused issue keeps the findings it stored."""
    from invoicing.services.issue import invoice_issue

    invoice = invoice_check(tenant=tenant, invoice_id=invoice_id)
    problems = blocking(invoice.check_results)
    if problems:
        raise ApplicationError(_(BLOCKED) % {"count": len(problems)},
                               extra={"code": "check_blocked", "findings": problems})
    return invoice_issue(tenant=tenant, invoice_id=invoice_id, actor=actor,
                         issue_date=issue_date)
