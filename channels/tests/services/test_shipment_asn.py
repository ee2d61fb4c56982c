"""ASN failure, correction and reconciliation over the real sandbox:
Amazon's errors reach the shipment and the submission, corrections go out
as new versions (Replace once one was accepted), and a lost answer is
settled by GetShipmentDetails before any resend."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from channels.models import (
    ChannelException,
    DocumentType,
    ExceptionKind,
    ExceptionStatus,
    ShipmentStatus,
    Submission,
    SubmissionStatus,
)
from channels.services.shipments import (
    NOT_FAILED,
    shipment_asn_resend,
    shipment_create,
    shipment_ship,
    shipment_transport_update,
)
from channels.services.submissions import submission_reconcile, submissions_poll
from channels.tests.services.test_shipment_pallets import accepted_lines

pytestmark = pytest.mark.django_db(transaction=True)


def _asns_at_amazon(sandbox) -> list:
    return sandbox.control(
        "GET", "/_sandbox/submissions?kind=shipmentConfirmation")["submissions"]


def _draft(live, account, sandbox, fast_retries, **options):
    warehouse, _po, lines = accepted_lines(live, account, sandbox, fast_retries)
    specs = [{"po_line_id": ln.pk, "quantity": ln.planned_accept, "country_of_origin": "US"}
             for ln in lines]
    return shipment_create(tenant=live, warehouse=warehouse, lines=specs, **options)


def _asn_submissions():
    return list(Submission.objects.filter(
        document_type=DocumentType.SHIPMENT_CONFIRMATION).order_by("document_version"))


def test_rejected_asn_shows_amazons_error_and_corrections_are_new_versions(
        live, live_account, sandbox, fast_retries, member_client):
    """A business Failure lands on the submission and the shipment; the fix
    goes out as v2 (Original: Amazon has none), a later correction as v3
    (Replace: v2 was accepted)."""
    # Given a truck shipment without a bill of lading (mandatory for LTL)
    shipment = _draft(live, live_account, sandbox, fast_retries,
                      shipment_type="LessThanTruckLoad", cartons_per_pallet=1)
    # When it ships and the ASN transaction is polled
    shipment_ship(tenant=live, shipment_id=shipment.pk)
    submissions_poll(tenant=live)
    # Then Amazon's error is on the submission and the shipment failed
    (first,) = _asn_submissions()
    assert first.status == SubmissionStatus.FAILURE
    assert first.errors[0]["code"] == "MISSING_BILL_OF_LADING"
    assert "bill of lading number is mandatory" in first.errors[0]["message"]
    shipment.refresh_from_db()
    assert shipment.status == ShipmentStatus.FAILED
    alert = ChannelException.objects.get(kind=ExceptionKind.SUBMISSION_FAILED,
                                         submission=first)
    assert alert.status == ExceptionStatus.OPEN
    assert "MISSING_BILL_OF_LADING" in alert.message
    # And the shipment page shows Amazon's error next to the ASN version
    page = member_client(live).get(reverse(
        "channels:shipment_detail", kwargs={"tenant_slug": live.slug, "shipment_id": shipment.pk}))
    assert page.status_code == 200
    assert b"MISSING_BILL_OF_LADING" in page.content
    # When ops add the bill of lading and send again
    shipment_transport_update(tenant=live, shipment_id=shipment.pk,
                              bill_of_lading_number="BOL-5521")
    second = shipment_asn_resend(tenant=live, shipment_id=shipment.pk)
    submissions_poll(tenant=live)
    # Then v2 is an Original (nothing was accepted before) and succeeds
    second.refresh_from_db()
    assert second.document_version == 2
    confirmation = second.payload["shipmentConfirmations"][0]
    assert confirmation["shipmentConfirmationType"] == "Original"
    assert confirmation["transportationDetails"]["billOfLadingNumber"] == "BOL-5521"
    assert second.status == SubmissionStatus.SUCCESS
    shipment.refresh_from_db()
    assert shipment.status == ShipmentStatus.CONFIRMED
    # When ops correct the PRO number of the accepted ASN
    shipment_transport_update(tenant=live, shipment_id=shipment.pk,
                              carrier_reference_number="PRO-88120")
    third = shipment_asn_resend(tenant=live, shipment_id=shipment.pk)
    submissions_poll(tenant=live)
    # Then v3 replaces it at Amazon
    third.refresh_from_db()
    assert third.document_version == 3
    assert third.payload["shipmentConfirmations"][0]["shipmentConfirmationType"] == "Replace"
    assert third.status == SubmissionStatus.SUCCESS
    shipment.refresh_from_db()
    assert (shipment.status, shipment.asn_version) == (ShipmentStatus.CONFIRMED, 3)
    at_amazon = _asns_at_amazon(sandbox)
    assert [a["body"]["shipmentConfirmations"][0]["shipmentConfirmationType"]
            for a in at_amazon] == ["Original", "Original", "Replace"]
    stored = sandbox.state.shipment_confirmations[shipment.shipment_identifier]
    assert stored["transportationDetails"]["carrierShipmentReferenceNumber"] == "PRO-88120"


def test_asn_in_flight_cannot_be_resent(live, live_account, sandbox, fast_retries):
    """While Amazon has not answered, no second version is made."""
    # Given an ASN Amazon is still processing
    shipment = _draft(live, live_account, sandbox, fast_retries)
    sandbox.control("POST", "/_sandbox/scenario", {"transactions_stuck": True})
    shipment_ship(tenant=live, shipment_id=shipment.pk)
    # When ops ask for a resend, Then it is refused
    with pytest.raises(Exception, match=NOT_FAILED[:30]):
        shipment_asn_resend(tenant=live, shipment_id=shipment.pk)
    assert len(_asn_submissions()) == 1


@pytest.mark.parametrize("fault, landed", [("reset_after", True), ("reset", False)])
def test_asn_with_lost_answer_is_reconciled_not_blindly_resent(
        live, live_account, sandbox, fast_retries, fault, landed):
    """Outcome unknown: found by GetShipmentDetails -> success, no second
    POST; not found -> sent again once."""
    # Given the connection drops on the ASN POST (after or before Amazon
    # processed it)
    shipment = _draft(live, live_account, sandbox, fast_retries)
    sandbox.control("POST", "/_sandbox/faults", {"faults": [
        {"operation": "SubmitShipmentConfirmations", "kind": fault, "count": 1}]})
    # When it ships
    shipment_ship(tenant=live, shipment_id=shipment.pk)
    (submission,) = _asn_submissions()
    # Then the outcome is unknown and nothing is resent yet
    assert submission.status == SubmissionStatus.OUTCOME_UNKNOWN
    assert len(_asns_at_amazon(sandbox)) == (1 if landed else 0)
    # When reconciliation runs after the grace period
    later = timezone.now() + datetime.timedelta(minutes=5)
    submission_reconcile(tenant=live, submission_id=submission.pk, now=later)
    submissions_poll(tenant=live)
    # Then Amazon holds exactly one ASN and the shipment is confirmed
    submission.refresh_from_db()
    shipment.refresh_from_db()
    assert len(_asns_at_amazon(sandbox)) == 1
    assert submission.status == SubmissionStatus.SUCCESS
    assert shipment.status == ShipmentStatus.CONFIRMED
    if landed:
        assert "reconciliation" in submission.status_detail
        assert submission.send_attempts == 1
    else:
        assert submission.send_attempts == 2
    assert sandbox.stats().get("calls:GetShipmentDetails") == 1
    assert not ChannelException.objects.filter(kind=ExceptionKind.OUTCOME_UNKNOWN,
                                               status=ExceptionStatus.OPEN).exists()
