"""Dashboard and API routes of the inventory app.

Dashboard paths are relative to /t/<tenant_slug>/; API paths to /api/v1/.
"""

from django.urls import path

from inventory import apis, views

app_name = "inventory"

urlpatterns = [
    path("stock/", views.StockListView.as_view(), name="stock_list"),
    path("products/", views.ProductListView.as_view(), name="product_list"),
    path("products/import/", views.ProductImportView.as_view(), name="product_import"),
    path("products/export/", views.ProductExportView.as_view(), name="product_export"),
    path("products/<int:product_id>/", views.ProductDetailView.as_view(), name="product_detail"),
    path(
        "products/<int:product_id>/adjust/",
        views.ProductMovementView.as_view(kind="adjustment"), name="product_adjust",
    ),
    path(
        "products/<int:product_id>/count/",
        views.ProductMovementView.as_view(kind="count"), name="product_count",
    ),
    path(
        "products/<int:product_id>/receive/",
        views.ProductMovementView.as_view(kind="receipt"), name="product_receive",
    ),
    path("products/<int:product_id>/hold/", views.ProductHoldView.as_view(), name="product_hold"),
    path("holds/", views.HoldListView.as_view(), name="hold_list"),
    path("holds/<int:hold_id>/release/", views.HoldReleaseView.as_view(), name="hold_release"),
    path("warehouses/", views.WarehouseListView.as_view(), name="warehouse_list"),
    path("purchase-plan/", views.PurchasePlanView.as_view(), name="purchase_plan"),
    path(
        "purchase-plan/export/", views.PurchasePlanExportView.as_view(),
        name="purchase_plan_export",
    ),
    path(
        "purchase-plan/<int:line_id>/review/", views.PurchasePlanReviewView.as_view(),
        name="purchase_plan_review",
    ),
    path("forecast/import/", views.ForecastImportView.as_view(), name="forecast_import"),
    path("settings/suppliers/", views.SupplierListView.as_view(), name="supplier_list"),
    path(
        "settings/channel-rules/", views.ChannelRuleListView.as_view(), name="channel_rule_list"
    ),
    path("inbound/", views.InboundSupplyListView.as_view(), name="inbound_supply_list"),
    path("inbound/import/", views.InboundSupplyImportView.as_view(),
         name="inbound_supply_import"),
]

api_urlpatterns = [
    path("products/", apis.ProductListApi.as_view(), name="product_list"),
    path("products/<int:product_id>/", apis.ProductDetailApi.as_view(), name="product_detail"),
    path("stock/", apis.StockListApi.as_view(), name="stock_list"),
    path("movements/", apis.MovementListApi.as_view(), name="movement_list"),
    path("purchase-plan/", apis.PurchasePlanListApi.as_view(), name="purchase_plan_list"),
]
