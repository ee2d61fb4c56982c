"""Cross-tenant probes for every channels URL (see tests/isolation.py).

First half: POs, exceptions, sync runs, call log, accounts, mappings.
The second half appends its probes to PROBES below.
"""

from __future__ import annotations

from django.utils import timezone

from acorn.tenancy import tenant_scope
from tests.isolation import ProbeTarget


def _account(tenant, **kwargs):
    from channels.tests.factories import AmazonVendorAccountFactory

    kwargs.setdefault("name", f"account-of-{tenant.slug}")
    return AmazonVendorAccountFactory(tenant=tenant, **kwargs)


def _po(tenant):
    from channels.tests.factories import PurchaseOrderFactory, PurchaseOrderLineFactory

    with tenant_scope(tenant):
        po = PurchaseOrderFactory(tenant=tenant, number=f"PO{tenant.slug.upper()[:6]}",
                                  account=_account(tenant))
        PurchaseOrderLineFactory(tenant=tenant, purchase_order=po, item_sequence_number="1")
    return po


def _po_list(tenant):
    po = _po(tenant)
    return ProbeTarget(marker=po.number)


def _po_detail(tenant):
    po = _po(tenant)
    return ProbeTarget(marker=po.number, kwargs={"purchase_order_id": po.pk})


def _exception(tenant):
    from channels.models import ExceptionKind
    from channels.tests.factories import ChannelExceptionFactory

    po = _po(tenant)
    with tenant_scope(tenant):
        return ChannelExceptionFactory(
            tenant=tenant, account=po.account, purchase_order=po,
            kind=ExceptionKind.UNMAPPED_LINE, subject_key=f"po:{po.pk}/line:1",
            message=f"exception-of-{tenant.slug}", detail={"asin": "B0PROBE001", "line": "1"},
        )


def _exception_list(tenant):
    exception = _exception(tenant)
    return ProbeTarget(marker=exception.message)


def _exception_map(tenant):
    exception = _exception(tenant)
    return ProbeTarget(marker=exception.message, kwargs={"exception_id": exception.pk})


def _sync_run(tenant):
    from channels.models import SyncKind, SyncRun, SyncStatus

    with tenant_scope(tenant):
        SyncRun.objects.create(
            tenant=tenant, account=_account(tenant), kind=SyncKind.PURCHASE_ORDERS,
            status=SyncStatus.SUCCEEDED, started_at=timezone.now(),
            request_id=f"run-of-{tenant.slug}",
        )
    return ProbeTarget(marker=f"run-of-{tenant.slug}")


def _api_call(tenant):
    from channels.models import ApiCallLog

    with tenant_scope(tenant):
        ApiCallLog.objects.create(
            tenant=tenant, account=_account(tenant), operation="getPurchaseOrders",
            method="GET", path="/vendor/orders/v1/purchaseOrders", status_code=200,
            request_id=f"call-of-{tenant.slug}",
        )
    return ProbeTarget(marker=f"call-of-{tenant.slug}")


def _account_list(tenant):
    with tenant_scope(tenant):
        account = _account(tenant)
    return ProbeTarget(marker=account.name)


def _account_edit(tenant):
    with tenant_scope(tenant):
        account = _account(tenant)
    return ProbeTarget(marker=account.name, kwargs={"account_id": account.pk})


def _account_test(tenant):
    with tenant_scope(tenant):
        # Nothing listens on port 9: the test fails fast and redirects.
        account = _account(tenant, endpoint_override="http://127.0.0.1:9")
    return ProbeTarget(marker=account.name, kwargs={"account_id": account.pk}, method="post")


def _mapping(tenant):
    from channels.tests.factories import SkuMappingFactory

    with tenant_scope(tenant):
        return SkuMappingFactory(tenant=tenant, account=_account(tenant),
                                 asin=f"B0{tenant.slug.upper()[:8]:X<8}")


def _mapping_list(tenant):
    return ProbeTarget(marker=_mapping(tenant).asin)


def _mapping_edit(tenant):
    mapping = _mapping(tenant)
    return ProbeTarget(marker=mapping.asin, kwargs={"mapping_id": mapping.pk})


def _tenant_page(tenant):
    return ProbeTarget(marker=tenant.name)


def _api_po_detail(tenant):
    po = _po(tenant)
    return ProbeTarget(marker=f'"number":"{po.number}"', kwargs={"purchase_order_id": po.pk})


PROBES = {
    "channels:po_list": _po_list,
    "channels:po_detail": _po_detail,
    "channels:exception_list": _exception_list,
    "channels:exception_map": _exception_map,
    "channels:sync_run_list": _sync_run,
    "channels:api_call_list": _api_call,
    "channels:account_list": _account_list,
    "channels:account_create": _tenant_page,
    "channels:account_edit": _account_edit,
    "channels:account_test": _account_test,
    "channels:account_destination": _account_edit,
    "channels:mapping_list": _mapping_list,
    "channels:mapping_edit": _mapping_edit,
    "channels:mapping_import": _tenant_page,
    "channels:mapping_export": _mapping_list,
    "api:channels:po_list": _po_list,
    "api:channels:po_detail": _api_po_detail,
    "api:channels:sync_run_list": _sync_run,
    "api:channels:api_call_list": _api_call,
    "api:channels:mapping_list": _mapping_list,
}


# --- Second half: acknowledgements, submissions, shipments, KPIs -------------


def _review_po(tenant):
    from channels.models import AckStatus, PurchaseOrder

    po = _po(tenant)
    with tenant_scope(tenant):
        PurchaseOrder.objects.filter(pk=po.pk).update(ack_status=AckStatus.REVIEW)
    return po


def _submission(tenant, status="sent"):
    from channels.models import DocumentType, Submission

    po = _po(tenant)
    with tenant_scope(tenant):
        return Submission.objects.create(
            tenant=tenant, account=po.account, document_type=DocumentType.ACKNOWLEDGEMENT,
            document_ref=f"SUB{tenant.slug.upper()}", document_version=1, payload={},
            status=status,
        )


def _shipment(tenant):
    from channels.models import Carton, Shipment, ShipmentItem
    from inventory.tests.factories import WarehouseFactory

    po = _po(tenant)
    with tenant_scope(tenant):
        shipment = Shipment.objects.create(
            tenant=tenant, account=po.account, shipment_identifier=f"ASN-{tenant.slug}",
            ship_to_party_id=po.ship_to_party_id, warehouse=WarehouseFactory(tenant=tenant),
        )
        ShipmentItem.objects.create(tenant=tenant, shipment=shipment,
                                    po_line=po.lines.first(), item_sequence_number=1,
                                    quantity=1)
        Carton.objects.create(tenant=tenant, shipment=shipment, sequence_number=1,
                              sscc="106141411234567897")
    return shipment


def _ack_queue(tenant):
    return ProbeTarget(marker=_review_po(tenant).number)


def _ack_review(tenant):
    po = _review_po(tenant)
    return ProbeTarget(marker=po.number, kwargs={"purchase_order_id": po.pk})


def _submission_list(tenant):
    return ProbeTarget(marker=_submission(tenant).document_ref)


def _submission_detail(tenant):
    submission = _submission(tenant)
    return ProbeTarget(marker=submission.document_ref,
                       kwargs={"submission_id": submission.pk})


def _submission_retry(tenant):
    submission = _submission(tenant, status="outcome_unknown")
    return ProbeTarget(marker=submission.document_ref, method="post",
                       kwargs={"submission_id": submission.pk})


def _shipment_list(tenant):
    return ProbeTarget(marker=_shipment(tenant).shipment_identifier)


def _shipment_detail(tenant):
    shipment = _shipment(tenant)
    return ProbeTarget(marker=shipment.shipment_identifier,
                       kwargs={"shipment_id": shipment.pk})


def _shipment_labels(tenant):
    shipment = _shipment(tenant)
    return ProbeTarget(marker="%PDF", kwargs={"shipment_id": shipment.pk})


def _kpis(tenant):
    return ProbeTarget(marker=_po(tenant).account.name)


def _api_shipments(tenant):
    shipment = _shipment(tenant)
    return ProbeTarget(marker=f'"shipment_identifier":"{shipment.shipment_identifier}"')


def _api_submissions(tenant):
    return ProbeTarget(marker=f'"document_ref":"{_submission(tenant).document_ref}"')


def _api_kpis(tenant):
    return ProbeTarget(marker=f'"account_name":"{_po(tenant).account.name}"')


PROBES.update({
    "channels:ack_queue": _ack_queue,
    "channels:ack_review": _ack_review,
    "channels:submission_list": _submission_list,
    "channels:submission_detail": _submission_detail,
    "channels:submission_retry": _submission_retry,
    "channels:shipment_list": _shipment_list,
    "channels:shipment_create": _tenant_page,
    "channels:shipment_detail": _shipment_detail,
    "channels:shipment_labels": _shipment_labels,
    "channels:vendor_kpis": _kpis,
    "api:channels:shipment_list": _api_shipments,
    "api:channels:submission_list": _api_submissions,
    "api:channels:vendor_kpis": _api_kpis,
})


def _gs1_settings(tenant):
    from channels.services.gs1_settings import gs1_settings_set

    prefix = "0614141" if tenant.slug == "alpha" else "0999999"
    gs1_settings_set(tenant=tenant, company_prefix=prefix, extension_digit=0)
    return ProbeTarget(marker=prefix)


PROBES["channels:gs1_settings"] = _gs1_settings
# --- Data retention ------------------------------------------------------------


def _archive_run(tenant):
    """A completed archive run of ``tenant`` with a stored file.

    The file is gzip at level 0 (stored blocks), so its marker line is
    readable in the downloaded bytes; real archives are compressed.
    """
    import gzip
    import hashlib

    from django.core.files.base import ContentFile

    from channels.models import ArchiveDataset, ArchiveRun, ArchiveStatus
    from channels.services.archives import archive_storage

    marker = f"archived-row-of-{tenant.slug}"
    content = gzip.compress(f'{{"marker": "{marker}"}}\n'.encode(), compresslevel=0, mtime=0)
    name = archive_storage().save(f"{tenant.slug}/probe/{marker}.jsonl.gz", ContentFile(content))
    with tenant_scope(tenant):
        run = ArchiveRun.objects.create(
            tenant=tenant, dataset=ArchiveDataset.API_CALLS, status=ArchiveStatus.COMPLETED,
            cutoff=timezone.now(), started_at=timezone.now(), finished_at=timezone.now(),
            row_count=1, deleted_count=1, file_name=name, file_size=len(content),
            sha256=hashlib.sha256(marker.encode()).hexdigest(),
        )
    return run, marker


def _archive_list(tenant):
    run, _marker = _archive_run(tenant)
    return ProbeTarget(marker=run.sha256[:15])


def _archive_download(tenant):
    run, marker = _archive_run(tenant)
    return ProbeTarget(marker=marker, kwargs={"run_id": run.pk})


def _api_archive_list(tenant):
    run, _marker = _archive_run(tenant)
    return ProbeTarget(marker=f'"sha256":"{run.sha256}"')


PROBES.update({
    "channels:archive_list": _archive_list,
    "channels:archive_download": _archive_download,
    "api:channels:archive_list": _api_archive_list,
})


# --- web stores (issue 12) -------------------------------------------------------


def _store(tenant):
    from channels.models import Listing, ListingMatch, StoreConnection, StoreOrder

    with tenant_scope(tenant):
        connection = StoreConnection.objects.create(
            tenant=tenant, platform="shopify", name=f"store-of-{tenant.slug}",
            shop_url="https://probe.myshopify.com", credentials='{"access_token": "x"}')
        listing = Listing.objects.create(
            tenant=tenant, connection=connection, item_id=f"item-{tenant.slug}",
            sku=f"LST-{tenant.slug}", match_state=ListingMatch.UNMATCHED)
        order = StoreOrder.objects.create(
            tenant=tenant, connection=connection, platform_order_id=f"ord-{tenant.slug}",
            name=f"#ORD-{tenant.slug}", placed_at=timezone.now(),
            platform_updated_at=timezone.now())
    return connection, listing, order


def _store_kwargs(tenant, **extra):
    connection, _listing, _order = _store(tenant)
    return ProbeTarget(marker=connection.name, kwargs={"connection_id": connection.pk}, **extra)


PROBES.update({
    "channels:store_list": lambda tenant: ProbeTarget(marker=_store(tenant)[0].name),
    "channels:store_create": _tenant_page,
    "channels:store_edit": _store_kwargs,
    "channels:store_locations": _store_kwargs,
    "channels:store_sync_log": _store_kwargs,
    "channels:store_action": lambda tenant: ProbeTarget(
        marker="", method="post",
        kwargs={"connection_id": _store(tenant)[0].pk, "action": "test"}),
    "channels:store_listing_list": lambda tenant: ProbeTarget(marker=_store(tenant)[1].sku),
    "channels:store_listing_review": lambda tenant: ProbeTarget(
        marker="", method="post", data={"action": "ignore"},
        kwargs={"listing_id": _store(tenant)[1].pk}),
    "channels:store_order_list": lambda tenant: ProbeTarget(marker=_store(tenant)[2].name),
    "api:channels:store_order_list": lambda tenant: ProbeTarget(
        marker=f'"platform_order_id":"{_store(tenant)[2].platform_order_id}"'),
    "api:channels:listing_list": lambda tenant: ProbeTarget(
        marker=f'"sku":"{_store(tenant)[1].sku}"'),
})
