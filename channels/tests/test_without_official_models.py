"""The demo flow with Amazon's official models out of reach: a fresh clone
has no ../shared, so the sandbox, the PO sync, the acknowledgement and the
ASN must work with what the repository carries.

ACORN_SPAPI_MODELS_DIR points at an empty folder and the loaders' caches
are cleared, so any read of the official models in this flow fails it.
"""

import pytest

from channels.models import (
    AckAutoSend,
    AckStatus,
    Gs1Settings,
    PurchaseOrder,
    ShipmentStatus,
    Submission,
    SubmissionStatus,
)
from channels.services.purchase_orders import purchase_orders_sync
from channels.services.shipments import shipment_create, shipment_ship
from channels.services.submissions import submission_create, submissions_poll
from channels.tests.factories import AmazonVendorAccountFactory
from channels.tests.services.test_acknowledgement_flow import stock_catalog
from vendor_api import conformance
from vendor_api.sandbox.testing import DEMO_CREDENTIALS, running_sandbox

CACHED_LOADERS = (
    conformance._load, conformance.operations, conformance._definitions,
    conformance._body_validator, conformance._response_validator,
    conformance._report_validator,
)


@pytest.fixture
def no_official_models(tmp_path, settings):
    empty = tmp_path / "spapi-models"
    empty.mkdir()
    for loader in CACHED_LOADERS:
        loader.cache_clear()
    settings.ACORN_SPAPI_MODELS_DIR = str(empty)
    yield empty
    for loader in CACHED_LOADERS:
        loader.cache_clear()


@pytest.mark.django_db(transaction=True)
def test_demo_flow_runs_with_an_empty_models_folder(no_official_models, live, fast_retries):
    # Given the official models cannot be read at all
    with pytest.raises(FileNotFoundError):
        conformance.operations()
    # And a sandbox (which checks every request) with POs, an account on it
    with running_sandbox(purchase_orders=0, validate_responses=False) as sandbox:
        sandbox.state.generate(vendor_code="DEMO1", count=2, days=1)
        account = AmazonVendorAccountFactory(
            tenant=live, name="Sandbox US", endpoint_override=sandbox.base_url,
            lwa_client_id=DEMO_CREDENTIALS.client_id,
            lwa_client_secret=DEMO_CREDENTIALS.client_secret,
            lwa_refresh_token=DEMO_CREDENTIALS.refresh_token,
            ack_auto_send=AckAutoSend.ALWAYS,
        )
        warehouse, _products = stock_catalog(live, account, sandbox)
        Gs1Settings.objects.create(tenant=live, company_prefix="0614141", extension_digit=1)
        # When POs sync (MarketplaceIds-free, as ACORN sends), plans are
        # validated, sent and polled
        purchase_orders_sync(tenant=live, account=account, **fast_retries)
        submissions_poll(tenant=live)
        # Then the acknowledgements were accepted at Amazon
        po = PurchaseOrder.objects.filter(state="New").order_by("number").first()
        assert po.ack_status == AckStatus.ACCEPTED
        assert sandbox.state.orders[po.number].state == "Acknowledged"
        # When the accepted lines ship and the ASN is polled
        lines = list(po.lines.filter(planned_accept__gt=0).order_by("item_sequence_number"))
        specs = [{"po_line_id": ln.pk, "quantity": ln.planned_accept,
                  "country_of_origin": "US"} for ln in lines]
        shipment = shipment_create(tenant=live, warehouse=warehouse, lines=specs)
        shipment, _warnings = shipment_ship(tenant=live, shipment_id=shipment.pk)
        submissions_poll(tenant=live)
        # Then Amazon has the ASN and the shipment is confirmed
        shipment.refresh_from_db()
        assert shipment.status == ShipmentStatus.CONFIRMED
        assert len(sandbox.state.shipment_confirmations) == 1
        # And an invalid document is still refused before it leaves
        with pytest.raises(Exception, match="does not match Amazon's model"):
            submission_create(
                tenant=live, account=account, document_type="acknowledgement",
                document_ref=po.number, document_version=99,
                payload={"acknowledgements": [{"purchaseOrderNumber": po.number}]},
            )
        # And every submission succeeded, each sent once
        assert set(Submission.objects.values_list("status", flat=True)) == {
            SubmissionStatus.SUCCESS}
        sent = sandbox.control("GET", "/_sandbox/submissions")["submissions"]
        assert len(sent) == Submission.objects.count()
