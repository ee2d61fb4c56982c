"""Dashboard and API routes of the reconciliation app."""

from django.urls import path

from reconciliation import apis, views

app_name = "reconciliation"
urlpatterns: list = [
    path("remittances/", views.RemittanceListView.as_view(), name="remittance_list"),
    path("remittances/imports/<int:import_id>/", views.RemittanceImportDetailView.as_view(),
         name="import_detail"),
    path("remittances/payments/", views.PaymentListView.as_view(), name="payment_list"),
    path("remittances/payments/<int:payment_id>/", views.PaymentDetailView.as_view(),
         name="payment_detail"),
    path("remittances/review/", views.ReviewQueueView.as_view(), name="review_queue"),
    path("remittances/open-items/", views.OpenItemsView.as_view(), name="open_items"),
]
api_urlpatterns: list = [
    path("remittances/", apis.RemittanceListApi.as_view(), name="remittance_list"),
    path("open-items/", apis.OpenItemListApi.as_view(), name="open_item_list"),
]

# Deductions, disputes, evidence, returns (reconciliation/deduction_urls.py).
from reconciliation import deduction_urls  # noqa: E402

urlpatterns += deduction_urls.urlpatterns
api_urlpatterns += deduction_urls.api_urlpatterns
