"""Deductions classified from real imports, the dispute clock from the
tenant's windows, statuses with events and audit, recoveries from a later
remittance, balance deductions, alerts without duplicates."""

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest

from acorn.exceptions import ApplicationError
from acorn.models import AuditEntry
from acorn.notifications.models import Notification, NotificationKind
from acorn.tenancy import tenant_scope
from reconciliation.deduction_models import (
    Deduction,
    DeductionEvent,
    DeductionStatus,
    DeductionType,
)
from reconciliation.services import remittance_import_create
from reconciliation.services.deductions import (
    deductions_from_remittances,
    dispute_settings_update,
    dispute_window,
    dispute_windows_alert,
    months_add,
)
from reconciliation.services.disputes import deduction_status_set
from reconciliation.tests.factories import issued_document

FIXTURES = Path(__file__).parent / "fixtures"
TODAY = dt.date(2026, 1, 20)
RECOVERY_CSV = (
    b"Payment Number,Payment Date,Payment Amount,Payment Currency,Invoice Number,Invoice Date,"
    b"Description,Invoice Amount,Terms Discount Taken,Amount Paid,Remaining Amount\n"
    b"88009999,02/20/2026,$42.00,USD,INV-000102SCR,02/18/2026,Shortage claim reversal,,,$42.00,\n"
)


def _setup(tenant):
    due = dt.date(2025, 12, 28)
    issued_document(tenant=tenant, number="INV-000101", amount="1234.56",
                    issue_date=dt.date(2025, 11, 28), due_date=due)
    issued_document(tenant=tenant, number="INV-000102", amount="700.00",
                    issue_date=dt.date(2025, 11, 29), due_date=due)
    with tenant_scope(tenant):
        remittance_import_create(tenant=tenant, data=(FIXTURES / "vc_export_us.csv").read_bytes(),
                                 filename="vc_export_us.csv")


@pytest.mark.django_db
def test_remittance_deductions_are_classified_with_windows_once(tenant_a):
    _setup(tenant_a)
    with tenant_scope(tenant_a):
        result = deductions_from_remittances(tenant=tenant_a, today=TODAY)
        assert result["created"] == 2
        shortage = Deduction.objects.get(deduction_type=DeductionType.SHORTAGE)
        assert shortage.amount == Decimal("42.00") and shortage.currency == "USD"
        assert shortage.invoice_number == "INV-000102" and shortage.invoice_id is not None
        # 30 days after the invoice due date (vendor-domain.md §2 default).
        assert shortage.dispute_due_date == dt.date(2026, 1, 27)
        assert shortage.lookback_until == dt.date(2028, 1, 15)
        chargeback = Deduction.objects.get(deduction_type=DeductionType.CHARGEBACK)
        assert chargeback.chargeback_type.code == "ASN"
        assert chargeback.dispute_due_date == dt.date(2026, 2, 14)  # claim date + 30
        # INV-000102's balance is the shortage: nothing unexplained.
        assert not Deduction.objects.filter(deduction_type=DeductionType.UNEXPLAINED).exists()
        again = deductions_from_remittances(tenant=tenant_a, today=TODAY)
        assert again["created"] == 0 and Deduction.objects.count() == 2
        assert DeductionEvent.objects.filter(to_status="new").count() == 2


@pytest.mark.django_db
def test_windows_follow_the_tenant_settings(tenant_a):
    _setup(tenant_a)
    with tenant_scope(tenant_a):
        settings_row = dispute_settings_update(
            tenant=tenant_a, data={"shortage_window_days": 40, "lookback_months": 1}, actor=None)
        deductions_from_remittances(tenant=tenant_a, today=TODAY)
        shortage = Deduction.objects.get(deduction_type=DeductionType.SHORTAGE)
        # 40 days would be 2026-02-06, but the one-month lookback ends first.
        assert shortage.dispute_due_date == dt.date(2026, 2, 6) or \
            shortage.dispute_due_date == shortage.lookback_until
        assert shortage.lookback_until == dt.date(2026, 2, 15)
        assert shortage.dispute_due_date == dt.date(2026, 2, 6)
        opens, due, lookback = dispute_window(
            settings_row=settings_row, deduction_type=DeductionType.PRICE_CLAIM_PPV,
            claim_date=dt.date(2026, 1, 31), invoice_due_date=None)
        assert (due, lookback) == (dt.date(2026, 2, 28), dt.date(2026, 2, 28))
    assert months_add(dt.date(2024, 2, 29), 12) == dt.date(2025, 2, 28)


@pytest.mark.django_db
def test_status_changes_are_checked_evented_and_audited(tenant_a, user_a):
    _setup(tenant_a)
    with tenant_scope(tenant_a):
        deductions_from_remittances(tenant=tenant_a, today=TODAY)
        shortage = Deduction.objects.get(deduction_type=DeductionType.SHORTAGE)
        with pytest.raises(ApplicationError):
            deduction_status_set(tenant=tenant_a, deduction_id=shortage.pk,
                                 status="partially_won", actor=user_a)
        disputed = deduction_status_set(tenant=tenant_a, deduction_id=shortage.pk,
                                        status="disputed", actor=user_a,
                                        dispute_reference="CASE-1")
        assert disputed.amount_disputed == Decimal("42") and disputed.disputed_at
        with pytest.raises(ApplicationError):
            deduction_status_set(tenant=tenant_a, deduction_id=shortage.pk, status="won",
                                 amount_recovered="50", actor=user_a)
        partial = deduction_status_set(tenant=tenant_a, deduction_id=shortage.pk,
                                       status="partially_won", amount_recovered="30",
                                       actor=user_a)
        assert partial.amount_recovered == Decimal("30") and partial.amount_open == Decimal("12")
        events = list(DeductionEvent.objects.filter(deduction=shortage).values_list(
            "from_status", "to_status"))
        assert events == [("", "new"), ("new", "disputed"), ("disputed", "partially_won")]
        assert AuditEntry.objects.filter(object_type="reconciliation.Deduction",
                                         object_id=str(shortage.pk)).count() == 2


@pytest.mark.django_db
def test_recovery_in_a_later_remittance_wins_the_deduction(tenant_a):
    _setup(tenant_a)
    with tenant_scope(tenant_a):
        deductions_from_remittances(tenant=tenant_a, today=TODAY)
        shortage = Deduction.objects.get(deduction_type=DeductionType.SHORTAGE)
        deduction_status_set(tenant=tenant_a, deduction_id=shortage.pk, status="disputed",
                             actor=None)
        remittance_import_create(tenant=tenant_a, data=RECOVERY_CSV, filename="later.csv")
        result = deductions_from_remittances(tenant=tenant_a, today=dt.date(2026, 2, 21))
        assert result["recoveries"] == 1
        shortage.refresh_from_db()
        assert shortage.status == DeductionStatus.WON
        assert shortage.amount_recovered == Decimal("42.00")
        assert shortage.recoveries.get().remittance_line.invoice_number_raw == "INV-000102SCR"
        # Applied once only.
        assert deductions_from_remittances(tenant=tenant_a)["recoveries"] == 0


@pytest.mark.django_db
def test_unpaid_past_due_and_unexplained_follow_the_balance(tenant_a):
    issued_document(tenant=tenant_a, number="INV-9", amount="100.00",
                    issue_date=dt.date(2025, 10, 1), due_date=dt.date(2025, 11, 30))
    issued_document(tenant=tenant_a, number="INV-10", amount="500.00",
                    issue_date=dt.date(2025, 10, 1), due_date=dt.date(2025, 11, 30))
    short_paid = (
        b"Payment Number,Payment Date,Payment Amount,Payment Currency,Invoice Number,"
        b"Invoice Date,Description,Invoice Amount,Terms Discount Taken,Amount Paid,"
        b"Remaining Amount\n"
        b"77001,12/15/2025,$450.00,USD,INV-10,10/01/2025,,$500.00,$0.00,$450.00,$50.00\n"
    )
    with tenant_scope(tenant_a):
        dispute_settings_update(tenant=tenant_a, data={"alert_threshold": Decimal("40")},
                                actor=None)
        remittance_import_create(tenant=tenant_a, data=short_paid, filename="short.csv")
        deductions_from_remittances(tenant=tenant_a, today=TODAY)
        unpaid = Deduction.objects.get(deduction_type=DeductionType.UNPAID_PAST_DUE)
        assert (unpaid.invoice_number, unpaid.amount) == ("INV-9", Decimal("100.00"))
        unexplained = Deduction.objects.get(deduction_type=DeductionType.UNEXPLAINED)
        assert (unexplained.invoice_number, unexplained.amount) == ("INV-10", Decimal("50.00"))
        kinds = set(Notification.objects.values_list("kind", flat=True))
        assert kinds == {NotificationKind.UNEXPLAINED, NotificationKind.DEDUCTION_NEW}
        # The rest arrives later: the unexplained difference is settled.
        rest = short_paid.replace(b"77001", b"77002").replace(b"$450.00", b"$50.00")
        remittance_import_create(tenant=tenant_a, data=rest, filename="rest.csv")
        deductions_from_remittances(tenant=tenant_a, today=TODAY)
        unexplained.refresh_from_db()
        assert unexplained.status == DeductionStatus.WON
        assert Deduction.objects.filter(deduction_type=DeductionType.UNEXPLAINED).count() == 1


@pytest.mark.django_db
def test_window_closing_alerts_once_per_deduction(tenant_a):
    _setup(tenant_a)
    with tenant_scope(tenant_a):
        deductions_from_remittances(tenant=tenant_a, today=TODAY)
        assert dispute_windows_alert(tenant=tenant_a, today=dt.date(2026, 1, 22)) == 1
        assert dispute_windows_alert(tenant=tenant_a, today=dt.date(2026, 1, 23)) == 0
        alert = Notification.objects.get(kind=NotificationKind.WINDOW_CLOSING)
        shortage = Deduction.objects.get(deduction_type=DeductionType.SHORTAGE)
        assert alert.subject_id == str(shortage.pk)
        assert alert.url.endswith(f"/deductions/{shortage.pk}/")


@pytest.mark.django_db
def test_a_marketplace_lookback_caps_its_deductions(tenant_a, member_client):
    from django.urls import reverse

    from reconciliation.models import Payment

    admin = member_client(tenant_a, "admin")
    url = reverse("reconciliation:dispute_settings", kwargs={"tenant_slug": tenant_a.slug})
    assert admin.post(url, {"marketplace_lookback": "1", "marketplace_id": "atvpdkikx0der",
                            "lookback_months": "1"}).status_code == 302
    _setup(tenant_a)
    with tenant_scope(tenant_a):
        Payment.objects.update(marketplace_id="ATVPDKIKX0DER")
        deductions_from_remittances(tenant=tenant_a, today=TODAY)
        chargeback = Deduction.objects.get(deduction_type=DeductionType.CHARGEBACK)
        # claim 2026-01-15 + 1 month = 2026-02-15 > claim + 30 days: the window stays.
        assert chargeback.lookback_until == dt.date(2026, 2, 15)
        shortage = Deduction.objects.get(deduction_type=DeductionType.SHORTAGE)
        assert shortage.dispute_due_date == dt.date(2026, 1, 27)
    assert "ATVPDKIKX0DER" in admin.get(url).content.decode()
