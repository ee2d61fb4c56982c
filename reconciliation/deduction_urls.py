"""Routes for deductions, disputes, evidence, returns and dispute settings
(added to reconciliation/urls.py)."""

from django.urls import path

from reconciliation import deduction_apis as apis
from reconciliation import deduction_views as views

urlpatterns = [
    path("reconciliation/overview/", views.ReconciliationOverviewView.as_view(),
         name="reconciliation_overview"),
    path("deductions/", views.DeductionListView.as_view(), name="deduction_list"),
    path("deductions/<int:deduction_id>/", views.DeductionDetailView.as_view(),
         name="deduction_detail"),
    path("deductions/<int:deduction_id>/evidence/", views.EvidenceUploadView.as_view(),
         name="evidence_upload"),
    path("deductions/<int:deduction_id>/evidence/<int:document_id>/",
         views.EvidenceDownloadView.as_view(), name="evidence_download"),
    path("deductions/<int:deduction_id>/evidence-pack.zip", views.EvidencePackZipView.as_view(),
         name="evidence_pack_zip"),
    path("disputes/", views.DisputeQueueView.as_view(), name="dispute_queue"),
    path("settings/disputes/", views.DisputeSettingsView.as_view(), name="dispute_settings"),
    path("returns/", views.ReturnListView.as_view(), name="return_list"),
    path("returns/<int:return_id>/<str:action>/", views.ReturnActionView.as_view(),
         name="return_action"),
]
api_urlpatterns = [
    path("deductions/", apis.DeductionListApi.as_view(), name="deduction_list"),
    path("disputes/", apis.DisputeListApi.as_view(), name="dispute_list"),
]
