"""End to end over real HTTP to the sandbox: a PO received short ->
the invoice paid short in a remittance -> a shortage deduction with its
evidence and due date -> an alert -> the dispute recorded -> the recovery
matched from a later remittance."""

import datetime

import pytest
from django.utils import timezone

from acorn.notifications.models import Notification, NotificationKind
from channels.services.purchase_orders import purchase_order_statuses_sync
from channels.tests.conftest import (  # noqa: F401 (fixtures)
    fast_retries,
    grant,
    live,
    live_account,
    sandbox,
    scope,
    tenant,
)
from invoicing.services import invoice_draft_from_shipment, invoice_issue_checked
from invoicing.tests.services.test_invoice_from_shipment import seller_setup, shipped
from reconciliation.deduction_models import Deduction, DeductionStatus, DeductionType
from reconciliation.deduction_selectors import evidence_pack
from reconciliation.services import remittance_import_create
from reconciliation.services.deductions import (
    deductions_from_remittances,
    dispute_settings_update,
    dispute_windows_alert,
)
from reconciliation.services.disputes import deduction_status_set

pytestmark = pytest.mark.django_db(transaction=True)
HEADER = ("Payment Number,Payment Date,Payment Amount,Payment Currency,Invoice Number,"
          "Invoice Date,Description,Invoice Amount,Terms Discount Taken,Amount Paid,"
          "Remaining Amount\n")


def _csv(rows) -> bytes:
    return (HEADER + "".join(",".join(row) + "\n" for row in rows)).encode()


def test_short_receipt_to_recovered_shortage(live, live_account, sandbox, fast_retries):  # noqa: F811
    # Given a shipped, invoiced PO
    seller_setup(live)
    shipment, po, lines = shipped(live, live_account, sandbox, fast_retries)
    invoice, _ = invoice_draft_from_shipment(tenant=live, shipment_id=shipment.pk,
                                             purchase_order_id=po.pk)
    invoice = invoice_issue_checked(tenant=live, invoice_id=invoice.pk)
    # When Amazon receives two units short on the first line
    short_line = lines[0]
    short_line.refresh_from_db()
    received = {ln.item_sequence_number: ln.planned_accept for ln in lines}
    received[short_line.item_sequence_number] -= 2
    sandbox.control("POST", "/_sandbox/receive",
                    {"purchase_order_number": po.number, "received": received})
    purchase_order_statuses_sync(tenant=live, account=live_account,
                                 now=timezone.now() + datetime.timedelta(seconds=2),
                                 **fast_retries)
    short_line.refresh_from_db()
    assert short_line.received_quantity == short_line.shipped_quantity - 2
    # And the remittance pays the invoice in full and deducts the shortage
    cost = invoice.lines.get(po_line=short_line).net_unit_cost
    shortage = (cost * 2).quantize(cost)
    total = invoice.amount_due
    pay_date = invoice.issue_date + datetime.timedelta(days=30)
    first = _csv([
        ["PAY-1", pay_date.strftime("%m/%d/%Y"), f"{total - shortage}", invoice.currency,
         invoice.number, invoice.issue_date.strftime("%m/%d/%Y"), "", f"{total}", "0",
         f"{total}", "0"],
        ["PAY-1", pay_date.strftime("%m/%d/%Y"), f"{total - shortage}", invoice.currency,
         f"{invoice.number}SC", pay_date.strftime("%m/%d/%Y"), "Shortage claim", "", "",
         f"-{shortage}", ""],
    ])
    dispute_settings_update(tenant=live, data={"alert_threshold": shortage}, actor=None)
    imported, _ = remittance_import_create(tenant=live, data=first, filename="pay-1.csv")
    assert imported.status == "succeeded", imported.errors
    deductions_from_remittances(tenant=live, today=pay_date)
    # Then a shortage deduction, linked to the invoice, PO and shipment
    deduction = Deduction.objects.get(deduction_type=DeductionType.SHORTAGE)
    assert deduction.amount == shortage and deduction.invoice_id == invoice.pk
    assert (deduction.purchase_order_id, deduction.shipment_id) == (po.pk, shipment.pk)
    due = invoice.payment_due_date or invoice.issue_date + datetime.timedelta(days=60)
    assert deduction.dispute_due_date == due + datetime.timedelta(days=30)
    # With its evidence: shipped vs received from the PO, SSCCs and the ASN as sent
    pack = evidence_pack(tenant=live, deduction=deduction)
    assert pack["short_units"] == 2 and pack["cartons"] and pack["receiving"]
    assert [c["sscc"] for c in pack["cartons"]] == list(
        shipment.cartons.order_by("sequence_number").values_list("sscc", flat=True))
    assert pack["asn_payload"]["shipmentConfirmations"][0]["shipmentIdentifier"] == \
        shipment.shipment_identifier
    # And alerts: a new deduction over the threshold, then its window closing
    assert Notification.objects.filter(kind=NotificationKind.DEDUCTION_NEW,
                                       subject_id=str(deduction.pk)).exists()
    assert dispute_windows_alert(
        tenant=live, today=deduction.dispute_due_date - datetime.timedelta(days=3)) == 1
    # When the dispute is recorded
    deduction_status_set(tenant=live, deduction_id=deduction.pk, status="disputed",
                         actor=None, dispute_reference="VC-CASE-1")
    # And a later remittance reverses the claim
    later = pay_date + datetime.timedelta(days=45)
    second = _csv([["PAY-2", later.strftime("%m/%d/%Y"), f"{shortage}", invoice.currency,
                    f"{invoice.number}SCR", later.strftime("%m/%d/%Y"),
                    "Shortage claim reversal", "", "", f"{shortage}", ""]])
    remittance_import_create(tenant=live, data=second, filename="pay-2.csv")
    deductions_from_remittances(tenant=live, today=later)
    # Then the deduction is won, recovered in full, from that line
    deduction.refresh_from_db()
    assert deduction.status == DeductionStatus.WON and deduction.amount_recovered == shortage
    assert deduction.recoveries.get().remittance_line.payment.payment_number == "PAY-2"
    assert [e.to_status for e in deduction.events.order_by("id")] == ["new", "disputed", "won"]
    # And nothing is left unexplained on the invoice
    assert not Deduction.objects.filter(deduction_type=DeductionType.UNEXPLAINED,
                                        status__in=["new", "disputed"]).exists()
