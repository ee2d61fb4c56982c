"""Dashboard pages and BI endpoints for deductions and disputes: they show
what they should, act through the services, and their query counts do not
grow with the rows."""

import datetime as dt
import io
import zipfile
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from acorn.tenancy import tenant_scope
from reconciliation.deduction_models import Deduction, DeductionStatus, EvidenceDocument
from reconciliation.tests.isolation_deductions import PDF, deduction_make


def _queries(client, url):
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200
    return len(captured), response


@pytest.mark.django_db
@pytest.mark.parametrize("url_name", ["reconciliation:deduction_list",
                                      "reconciliation:dispute_queue",
                                      "reconciliation:reconciliation_overview"])
def test_list_pages_query_count_is_flat(url_name, tenant_a, member_client):
    client = member_client(tenant_a, "operations")
    url = reverse(url_name, kwargs={"tenant_slug": tenant_a.slug})
    deduction_make(tenant_a, reference="D-1")
    few, _ = _queries(client, url)
    for n in range(2, 12):
        deduction_make(tenant_a, reference=f"D-{n}", deduction_type="chargeback",
                       claim_date=dt.date(2026, 1 + n % 6, 1))
    many, response = _queries(client, url)
    assert many == few
    if url_name != "reconciliation:reconciliation_overview":
        assert "D-11" in response.content.decode()


@pytest.mark.django_db
def test_dispute_queue_is_sorted_by_the_closest_window(tenant_a, member_client):
    client = member_client(tenant_a, "viewer")
    deduction_make(tenant_a, reference="LATE", dispute_due_date=dt.date(2026, 3, 1))
    deduction_make(tenant_a, reference="SOON", dispute_due_date=dt.date(2026, 2, 1))
    deduction_make(tenant_a, reference="DONE", dispute_due_date=dt.date(2026, 1, 1),
                   status=DeductionStatus.WON)
    body = client.get(reverse("reconciliation:dispute_queue",
                              kwargs={"tenant_slug": tenant_a.slug})).content.decode()
    assert body.index("SOON") < body.index("LATE") and "DONE" not in body


@pytest.mark.django_db
def test_detail_status_action_evidence_upload_and_zip(tenant_a, member_client):
    client = member_client(tenant_a, "operations")
    deduction = deduction_make(tenant_a, reference="SC-77")
    url = reverse("reconciliation:deduction_detail",
                  kwargs={"tenant_slug": tenant_a.slug, "deduction_id": deduction.pk})
    response = client.post(url, {"status": "disputed", "amount_disputed": "40",
                                 "dispute_reference": "CASE-9"})
    assert response.status_code == 302
    with tenant_scope(tenant_a):
        deduction.refresh_from_db()
    assert deduction.status == "disputed" and deduction.amount_disputed == Decimal("40")
    # A transition that is not allowed is refused with the reason, nothing changes.
    response = client.post(url, {"status": "new"})
    assert response.status_code == 200 and "cannot become" in response.content.decode()
    upload_url = reverse("reconciliation:evidence_upload",
                         kwargs={"tenant_slug": tenant_a.slug, "deduction_id": deduction.pk})
    bad = client.post(upload_url, {"kind": "pod",
                                   "file": io.BytesIO(b"MZ\x90 not a document")})
    assert bad.status_code == 200 and "Upload a PDF" in bad.content.decode()
    pdf = io.BytesIO(PDF + b"pod")
    pdf.name = "pod.pdf"
    assert client.post(upload_url, {"kind": "pod", "file": pdf}).status_code == 302
    with tenant_scope(tenant_a):
        document = EvidenceDocument.objects.get()
    assert document.content_type == "application/pdf" and len(document.sha256) == 64
    zipped = client.get(reverse("reconciliation:evidence_pack_zip", kwargs={
        "tenant_slug": tenant_a.slug, "deduction_id": deduction.pk}))
    archive = zipfile.ZipFile(io.BytesIO(zipped.content))
    names = archive.namelist()
    assert {"manifest.json", "cartons.csv", "receiving.csv"} <= set(names)
    assert archive.read(f"uploads/{document.pk}-pod.pdf") == PDF + b"pod"


@pytest.mark.django_db
def test_viewer_cannot_change_status(tenant_a, member_client):
    client = member_client(tenant_a, "viewer")
    deduction = deduction_make(tenant_a)
    url = reverse("reconciliation:deduction_detail",
                  kwargs={"tenant_slug": tenant_a.slug, "deduction_id": deduction.pk})
    assert client.post(url, {"status": "disputed"}).status_code == 403


@pytest.mark.django_db
def test_settings_page_is_for_admins_and_saves(tenant_a, member_client):
    url = reverse("reconciliation:dispute_settings", kwargs={"tenant_slug": tenant_a.slug})
    assert member_client(tenant_a, "operations").get(url).status_code == 403
    admin = member_client(tenant_a, "admin")
    data = {"shortage_window_days": 40, "shortage_wait_days": 5, "price_claim_window_days": 30,
            "chargeback_window_days": 30, "coop_window_days": 30, "other_window_days": 30,
            "lookback_months": 60, "alert_days_before": 10, "alert_threshold": "250",
            "default_payment_days": 60}
    assert admin.post(url, data).status_code == 302
    from reconciliation.deduction_models import DisputeSettings

    with tenant_scope(tenant_a):
        saved = DisputeSettings.objects.get()
    assert (saved.shortage_window_days, saved.lookback_months) == (40, 60)


@pytest.mark.django_db
@pytest.mark.parametrize("url_name", ["api:reconciliation:deduction_list",
                                      "api:reconciliation:dispute_list"])
def test_api_lists_with_filters_and_flat_query_count(url_name, tenant_a, api_client_for):
    from django.utils import timezone

    api = api_client_for(tenant_a)
    url = reverse(url_name)
    deduction_make(tenant_a, reference="A-1", status="disputed", disputed_at=timezone.now())
    assert api.get(url).status_code == 200  # the key's first use is recorded once
    with CaptureQueriesContext(connection) as few:
        assert api.get(url).status_code == 200
    for n in range(8):
        deduction_make(tenant_a, reference=f"A-{n + 2}", status="disputed",
                       disputed_at=timezone.now(), deduction_type="chargeback")
    with CaptureQueriesContext(connection) as many:
        body = api.get(url).json()
    assert len(many) == len(few)
    assert {row["reference"] for row in body["results"]} >= {"A-1", "A-9"}
    assert body["results"][0]["amount"] == "42.0000"
    filtered = api.get(url, {"deduction_type": "shortage"}).json()["results"]
    assert [row["reference"] for row in filtered] == ["A-1"]
    assert api.get(url, {"status": "bogus"}).status_code == 400


@pytest.mark.django_db
def test_api_deductions_lists_undisputed_too(tenant_a, api_client_for):
    deduction_make(tenant_a, reference="NEW-1")
    api = api_client_for(tenant_a)
    assert [r["reference"] for r in api.get(reverse("api:reconciliation:deduction_list"))
            .json()["results"]] == ["NEW-1"]
    assert api.get(reverse("api:reconciliation:dispute_list")).json()["results"] == []
    with tenant_scope(tenant_a):
        assert Deduction.objects.count() == 1


@pytest.mark.django_db
def test_admin_adds_a_chargeback_type_that_classifies_lines(tenant_a, member_client):
    from reconciliation.deduction_models import ChargebackType
    from reconciliation.services.deductions import chargeback_type_for, chargeback_types_ensure

    admin = member_client(tenant_a, "admin")
    url = reverse("reconciliation:dispute_settings", kwargs={"tenant_slug": tenant_a.slug})
    response = admin.post(url, {"chargeback_type": "1", "code": "overweight",
                                "name": "Overweight carton", "keywords": "overweight carton"})
    assert response.status_code == 302
    assert "Overweight carton" in admin.get(url).content.decode()
    with tenant_scope(tenant_a):
        types = chargeback_types_ensure(tenant=tenant_a)
        assert chargeback_type_for(types, "Overweight carton fee").code == "OVERWEIGHT"
        assert chargeback_type_for(types, "overweight pallet").code == "PREP"
        assert chargeback_type_for(types, "something new").code == "OTHER"
        assert ChargebackType.objects.filter(code="OVERWEIGHT").count() == 1


@pytest.mark.django_db
def test_overview_card_counts_windows_closing(tenant_a):
    from reconciliation.deduction_selectors import deduction_overview_cards

    deduction_make(tenant_a, reference="SOON", dispute_due_date=dt.date(2026, 1, 25))
    deduction_make(tenant_a, reference="LATER", dispute_due_date=dt.date(2026, 3, 25))
    with tenant_scope(tenant_a):
        [card] = deduction_overview_cards(tenant=tenant_a, today=dt.date(2026, 1, 20))
    from acorn.overview import card_present

    card = card_present(card, tenant=tenant_a)
    assert card["value"] == 2 and card["tone"] == "warning"
    assert card["hint"] == "1 dispute windows close within 7 days"
