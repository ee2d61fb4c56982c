"""Dashboard and API routes of the reconciliation app."""

app_name = "reconciliation"
urlpatterns: list = []
api_urlpatterns: list = []

# Deductions, disputes, evidence, returns (reconciliation/deduction_urls.py).
from reconciliation import deduction_urls  # noqa: E402

urlpatterns += deduction_urls.urlpatterns
api_urlpatterns += deduction_urls.api_urlpatterns
