"""Dashboard pages and BI endpoints: upload, review decisions, and a fixed
number of queries whatever the number of payments, lines and matches."""

from pathlib import Path

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from acorn.tenancy import tenant_scope
from reconciliation.models import ImportStatus, Match, MatchStatus, RemittanceImport
from reconciliation.services import remittance_import_create
from reconciliation.tests.factories import issued_document

FIXTURES = Path(__file__).parent / "fixtures"


def _payments(tenant, count: int, start: int = 0):
    for n in range(start, start + count):
        issued_document(tenant=tenant, number=f"Q-{n}", amount="10.00")
        issued_document(tenant=tenant, number=f"Q-{n}-00077", amount="3.00")
        data = (f"Payment Number,Invoice Number,Amount Paid,Currency\n"
                f"P{n},Q-{n},10.00,USD\nP{n},Q-{n}SC,-1.00,USD\nP{n},Q-{n}-77,3.00,USD\n"
                f"P{n},9{n}VCBSINV,-2.00,USD\n").encode()
        remittance_import_create(tenant=tenant, data=data, filename=f"q{n}.csv")


def _queries(client, url) -> int:
    client.get(url)  # warm: an API key's last use is written once a minute
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200
    return len(captured.captured_queries)


PAGES = ["remittance_list", "payment_list", "review_queue", "open_items"]


@pytest.mark.django_db
@pytest.mark.parametrize("name", PAGES)
def test_list_pages_do_not_grow_queries_with_rows(member_client, tenant_a, name):
    client = member_client(tenant_a, role="operations")
    url = reverse(f"reconciliation:{name}", kwargs={"tenant_slug": tenant_a.slug})
    _payments(tenant_a, 1)
    few = _queries(client, url)
    _payments(tenant_a, 4, start=1)
    assert _queries(client, url) == few


@pytest.mark.django_db
def test_payment_detail_queries_do_not_grow_with_lines(member_client, tenant_a):
    client = member_client(tenant_a)
    _payments(tenant_a, 1)
    with tenant_scope(tenant_a):
        from reconciliation.models import Payment

        payment = Payment.objects.get()
    url = reverse("reconciliation:payment_detail",
                  kwargs={"tenant_slug": tenant_a.slug, "payment_id": payment.pk})
    # 12, plus the header bell's open-alert count (acorn.notifications context processor).
    assert _queries(client, url) <= 13
    response = client.get(url)
    assert "Q-0SC" in response.content.decode()


@pytest.mark.django_db
@pytest.mark.parametrize("name", ["remittance_list", "open_item_list"])
def test_api_lists_do_not_grow_queries_with_rows(api_client_for, tenant_a, name):
    api = api_client_for(tenant_a)
    url = reverse(f"api:reconciliation:{name}")
    _payments(tenant_a, 1)
    few = _queries(api, url)
    _payments(tenant_a, 4, start=1)
    assert _queries(api, url) == few


@pytest.mark.django_db
def test_api_remittances_money_is_a_decimal_string(api_client_for, tenant_a):
    _payments(tenant_a, 1)
    body = api_client_for(tenant_a).get(reverse("api:reconciliation:remittance_list")).json()
    [payment] = body["results"]
    assert payment["amount"] == "10.0000" and payment["currency"] == "USD"
    kinds = {line["invoice_number"]: line["kind"] for line in payment["lines"]}
    assert kinds == {"Q-0": "invoice_payment", "Q-0SC": "shortage_claim",
                     "Q-0-77": "invoice_payment", "90VCBSINV": "chargeback"}
    matched = {line["invoice_number"]: line["matches"][0]["method"]
               for line in payment["lines"] if line["matches"]}
    assert matched == {"Q-0": "exact", "Q-0SC": "suffix", "Q-0-77": "heuristic"}


@pytest.mark.django_db
def test_upload_page_imports_a_file_and_shows_its_errors(member_client, tenant_a):
    client = member_client(tenant_a, role="operations")
    url = reverse("reconciliation:remittance_list", kwargs={"tenant_slug": tenant_a.slug})
    with (FIXTURES / "vc_export_bad_rows.csv").open("rb") as handle:
        response = client.post(url, {"file": handle}, follow=True)
    assert response.status_code == 200
    text = response.content.decode()
    assert "invoice_number" in text and "not_a_number" in text
    assert "twelve dollars" not in text
    with tenant_scope(tenant_a):
        assert RemittanceImport.objects.get().status == ImportStatus.FAILED


@pytest.mark.django_db
def test_pasted_email_text_imports(member_client, tenant_a):
    client = member_client(tenant_a, role="operations")
    url = reverse("reconciliation:remittance_list", kwargs={"tenant_slug": tenant_a.slug})
    pasted = (FIXTURES / "remittance_advice_pasted.txt").read_text()
    response = client.post(url, {"pasted": pasted}, follow=True)
    assert "33010000" in response.content.decode()


@pytest.mark.django_db
def test_viewers_cannot_upload(member_client, tenant_a):
    client = member_client(tenant_a, role="viewer")
    url = reverse("reconciliation:remittance_list", kwargs={"tenant_slug": tenant_a.slug})
    with (FIXTURES / "vc_export_us.csv").open("rb") as handle:
        assert client.post(url, {"file": handle}).status_code == 403


@pytest.mark.django_db
def test_review_queue_confirm_and_reject_from_the_page(member_client, tenant_a):
    client = member_client(tenant_a, role="operations")
    _payments(tenant_a, 2)
    url = reverse("reconciliation:review_queue", kwargs={"tenant_slug": tenant_a.slug})
    with tenant_scope(tenant_a):
        first, second = Match.objects.filter(status=MatchStatus.NEEDS_REVIEW).order_by("id")
    client.post(url, {"action": "confirm", "match_id": first.pk})
    client.post(url, {"action": "reject", "match_id": second.pk})
    with tenant_scope(tenant_a):
        first.refresh_from_db()
        second.refresh_from_db()
    assert (first.status, second.status) == (MatchStatus.CONFIRMED, MatchStatus.REJECTED)
    assert "Nothing to review" in client.get(url).content.decode()
