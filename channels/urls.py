"""Dashboard and API routes of the channels app."""

from django.urls import path

from channels.apis import kpis as kpi_apis
from channels.apis import observability as observability_apis
from channels.apis import purchase_orders as po_apis
from channels.apis import shipments as shipment_apis
from channels.apis import stores as store_apis
from channels.views import (
    accounts,
    acknowledgements,
    archives,
    exceptions,
    gs1,
    kpis,
    mappings,
    observability,
    purchase_orders,
    shipments,
    submissions,
)
from channels.views import stores as store_views

app_name = "channels"
urlpatterns: list = [
    # --- purchase orders, exceptions, sync runs, call log, accounts, mappings
    path("purchase-orders/", purchase_orders.PurchaseOrderListView.as_view(), name="po_list"),
    path("purchase-orders/<int:purchase_order_id>/",
         purchase_orders.PurchaseOrderDetailView.as_view(), name="po_detail"),
    path("exceptions/", exceptions.ChannelExceptionListView.as_view(), name="exception_list"),
    path("exceptions/<int:exception_id>/map/", exceptions.ChannelExceptionMapView.as_view(),
         name="exception_map"),
    path("sync-runs/", observability.SyncRunListView.as_view(), name="sync_run_list"),
    path("api-calls/", observability.ApiCallListView.as_view(), name="api_call_list"),
    path("settings/amazon-accounts/", accounts.AccountListView.as_view(), name="account_list"),
    path("settings/amazon-accounts/new/", accounts.AccountCreateView.as_view(),
         name="account_create"),
    path("settings/amazon-accounts/<int:account_id>/", accounts.AccountEditView.as_view(),
         name="account_edit"),
    path("settings/amazon-accounts/<int:account_id>/environment/",
         accounts.AccountDestinationView.as_view(), name="account_destination"),
    path("settings/amazon-accounts/<int:account_id>/test/",
         accounts.AccountTestConnectionView.as_view(), name="account_test"),
    path("settings/sku-mappings/", mappings.MappingListView.as_view(), name="mapping_list"),
    path("settings/gs1/", gs1.Gs1SettingsView.as_view(), name="gs1_settings"),
    path("settings/sku-mappings/<int:mapping_id>/", mappings.MappingEditView.as_view(),
         name="mapping_edit"),
    path("settings/sku-mappings/import/", mappings.MappingImportView.as_view(),
         name="mapping_import"),
    path("settings/sku-mappings/export/", mappings.MappingExportView.as_view(),
         name="mapping_export"),
    # --- acknowledgements, submissions, shipments, KPIs
    path("acknowledgements/", acknowledgements.AckQueueView.as_view(), name="ack_queue"),
    path("purchase-orders/<int:purchase_order_id>/acknowledgement/",
         acknowledgements.AcknowledgementReviewView.as_view(), name="ack_review"),
    path("submissions/", submissions.SubmissionListView.as_view(), name="submission_list"),
    path("submissions/<int:submission_id>/", submissions.SubmissionDetailView.as_view(),
         name="submission_detail"),
    path("submissions/<int:submission_id>/retry/", submissions.SubmissionRetryView.as_view(),
         name="submission_retry"),
    path("shipments/", shipments.ShipmentListView.as_view(), name="shipment_list"),
    path("shipments/new/", shipments.ShipmentCreateView.as_view(), name="shipment_create"),
    path("shipments/<int:shipment_id>/", shipments.ShipmentDetailView.as_view(),
         name="shipment_detail"),
    path("shipments/<int:shipment_id>/labels.pdf", shipments.ShipmentLabelsView.as_view(),
         name="shipment_labels"),
    path("vendor-kpis/", kpis.VendorKpiView.as_view(), name="vendor_kpis"),
    # --- data retention
    path("settings/data-retention/", archives.ArchiveListView.as_view(), name="archive_list"),
    path("settings/data-retention/archives/<int:run_id>/download/",
         archives.ArchiveDownloadView.as_view(), name="archive_download"),
    # --- web stores (issue 12)
    path("settings/stores/", store_views.StoreConnectionListView.as_view(), name="store_list"),
    path("settings/stores/new/", store_views.StoreConnectionCreateView.as_view(),
         name="store_create"),
    path("settings/stores/<int:connection_id>/", store_views.StoreConnectionEditView.as_view(),
         name="store_edit"),
    path("settings/stores/<int:connection_id>/locations/",
         store_views.StoreLocationsView.as_view(), name="store_locations"),
    path("settings/stores/<int:connection_id>/<slug:action>/",
         store_views.StoreConnectionActionView.as_view(), name="store_action"),
    path("stores/<int:connection_id>/sync-log/", store_views.StoreSyncLogView.as_view(),
         name="store_sync_log"),
    path("stores/listings/", store_views.ListingListView.as_view(), name="store_listing_list"),
    path("stores/listings/<int:listing_id>/review/", store_views.ListingReviewView.as_view(),
         name="store_listing_review"),
    path("stores/orders/", store_views.StoreOrderListView.as_view(), name="store_order_list"),
]
api_urlpatterns: list = [
    # --- purchase orders, sync runs, API calls, SKU mappings
    path("purchase-orders/", po_apis.PurchaseOrderListApi.as_view(), name="po_list"),
    path("purchase-orders/<int:purchase_order_id>/", po_apis.PurchaseOrderDetailApi.as_view(),
         name="po_detail"),
    path("sync-runs/", observability_apis.SyncRunListApi.as_view(), name="sync_run_list"),
    path("api-calls/", observability_apis.ApiCallListApi.as_view(), name="api_call_list"),
    path("sku-mappings/", observability_apis.SkuMappingListApi.as_view(),
         name="mapping_list"),
    # --- shipments, submissions, KPIs
    path("shipments/", shipment_apis.ShipmentListApi.as_view(), name="shipment_list"),
    path("submissions/", shipment_apis.SubmissionListApi.as_view(), name="submission_list"),
    path("vendor-kpis/", kpi_apis.VendorKpiApi.as_view(), name="vendor_kpis"),
    # --- data retention
    path("archives/", observability_apis.ArchiveRunListApi.as_view(), name="archive_list"),
    # --- web stores (issue 12)
    path("store-orders/", store_apis.StoreOrderListApi.as_view(), name="store_order_list"),
    path("listings/", store_apis.ListingListApi.as_view(), name="listing_list"),
]

# Public (no login): where the platforms deliver webhooks, mounted under
# /hooks/ by acorn/urls.py. The tenant is in the path because the platform
# has no session; the adapter verifies every delivery's signature.
webhook_urlpatterns: list = [
    path("stores/<slug:tenant_slug>/<int:connection_id>/", store_views.StoreWebhookView.as_view(),
         name="store_webhook"),
]
