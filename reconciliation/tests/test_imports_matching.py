"""Imports are idempotent, atomic and kept; matching is exact, by suffix,
then heuristic for review; open items add up per currency."""

import datetime as dt
import hashlib
from decimal import Decimal
from pathlib import Path

import pytest

from acorn.tenancy import tenant_scope
from invoicing.models import DocumentKind
from reconciliation import selectors
from reconciliation.models import (
    ImportStatus,
    LineKind,
    Match,
    MatchMethod,
    MatchStatus,
    Payment,
    RemittanceImport,
    RemittanceLine,
)
from reconciliation.services import (
    match_confirm,
    match_reassign,
    match_reject,
    payments_match,
    remittance_import_create,
)
from reconciliation.tests.factories import issued_document

FIXTURES = Path(__file__).parent / "fixtures"


def load(tenant, name, **kwargs):
    return remittance_import_create(tenant=tenant, data=(FIXTURES / name).read_bytes(),
                                    filename=name, **kwargs)


def counts(tenant):
    with tenant_scope(tenant):
        return (RemittanceImport.objects.count(), Payment.objects.count(),
                RemittanceLine.objects.count(), Match.objects.count())


def us_invoices(tenant):
    issued_document(tenant=tenant, number="INV-000101", amount="1234.56")
    issued_document(tenant=tenant, number="INV-000102", amount="700.00")


@pytest.mark.django_db
def test_us_export_imports_keeps_the_file_and_matches_exact_and_suffix(tenant_a):
    us_invoices(tenant_a)
    data = (FIXTURES / "vc_export_us.csv").read_bytes()
    remittance_import, created = load(tenant_a, "vc_export_us.csv")
    assert created and remittance_import.status == ImportStatus.SUCCEEDED
    assert remittance_import.sha256 == hashlib.sha256(data).hexdigest()
    with remittance_import.file.open("rb") as handle:
        assert handle.read() == data
    assert (remittance_import.payments_created, remittance_import.lines_created) == (1, 4)
    with tenant_scope(tenant_a):
        payment = Payment.objects.get()
        assert payment.is_balanced and payment.amount == Decimal("1858.56")
        lines = {line.invoice_number_raw: line for line in payment.lines.all()}
        assert lines["INV-000102SC"].kind == LineKind.SHORTAGE_CLAIM
        assert lines["1234567VCBSINV"].kind == LineKind.CHARGEBACK
        matches = {m.line.invoice_number_raw: m for m in Match.objects.select_related("line")}
    assert matches["INV-000101"].method == MatchMethod.EXACT
    assert matches["INV-000101"].status == MatchStatus.AUTO
    assert matches["INV-000102SC"].method == MatchMethod.SUFFIX
    assert matches["INV-000102SC"].invoice_id == matches["INV-000102"].invoice_id
    assert "1234567VCBSINV" not in matches  # a chargeback names no invoice of ours
    with tenant_scope(tenant_a):
        items = {item.number: item for item in selectors.open_items(
            tenant=tenant_a, include_settled=True)}
    assert items["INV-000101"].balance == 0
    inv102 = items["INV-000102"]
    # 700 invoiced, 686 paid, 14 discount, 42 shortage: 42 open.
    assert (inv102.paid, inv102.discount, inv102.deducted, inv102.balance) == (
        Decimal("686.00"), Decimal("14.00"), Decimal("-42.00"), Decimal("42.00"))


@pytest.mark.django_db
def test_the_same_file_twice_adds_nothing(tenant_a):
    us_invoices(tenant_a)
    first, _ = load(tenant_a, "vc_export_us.csv")
    before = counts(tenant_a)
    again, created = load(tenant_a, "vc_export_us.csv")
    assert (again.pk, created) == (first.pk, False)
    assert counts(tenant_a) == before


@pytest.mark.django_db
def test_the_same_payment_in_another_file_adds_nothing(tenant_a):
    us_invoices(tenant_a)
    load(tenant_a, "vc_export_us.csv")
    before = counts(tenant_a)
    data = (FIXTURES / "vc_export_us.csv").read_bytes() + b"\n"  # other bytes, same payment
    second, created = remittance_import_create(tenant=tenant_a, data=data, filename="copy.csv")
    assert created and second.status == ImportStatus.SUCCEEDED
    assert (second.payments_created, second.payments_skipped, second.lines_created) == (0, 1, 0)
    after = counts(tenant_a)
    assert after[1:] == before[1:]


@pytest.mark.django_db
def test_a_bad_file_changes_nothing_and_reports_rows(tenant_a):
    remittance_import, _ = load(tenant_a, "vc_export_bad_rows.csv")
    assert remittance_import.status == ImportStatus.FAILED
    assert [(e["line"], e["field"]) for e in remittance_import.errors] == [
        (3, "invoice_number"), (4, "amount_paid")]
    assert counts(tenant_a) == (1, 0, 0, 0)


@pytest.mark.django_db
def test_an_unbalanced_payment_is_stored_and_flagged(tenant_a):
    remittance_import, _ = load(tenant_a, "vc_export_two_payments_bom.csv")
    assert remittance_import.status == ImportStatus.SUCCEEDED
    assert [e["code"] for e in remittance_import.errors] == ["unbalanced"]
    with tenant_scope(tenant_a):
        flags = dict(Payment.objects.values_list("payment_number", "is_balanced"))
        assert list(selectors.payment_list(tenant=tenant_a, unbalanced=True)
                    .values_list("payment_number", flat=True)) == ["55000002"]
    assert flags == {"55000001": True, "55000002": False}


@pytest.mark.django_db
def test_amounts_finer_than_the_currency_fail_the_import(tenant_a):
    data = b"Payment Number,Invoice Number,Amount Paid,Currency\n1,INV-1,10.005,USD\n"
    remittance_import, _ = remittance_import_create(tenant=tenant_a, data=data, filename="x.csv")
    assert remittance_import.status == ImportStatus.FAILED
    assert remittance_import.errors[0]["code"] == "too_precise"


@pytest.mark.django_db
def test_heuristics_go_to_review_and_review_decides(tenant_a, user_a):
    issued_document(tenant=tenant_a, number="INV-000501", amount="1000.00")
    issued_document(tenant=tenant_a, number="INV-000502", amount="50.00")
    target = issued_document(tenant=tenant_a, number="INV-000503", amount="300.00",
                             purchase_order_number="PO77777")
    load(tenant_a, "vc_export.xlsx")
    with tenant_scope(tenant_a):
        queue = list(selectors.review_queue(tenant=tenant_a))
    assert [(m.line.invoice_number_raw, m.invoice_id, m.method) for m in queue] == [
        ("WRONGNUMBER-9", target.pk, MatchMethod.HEURISTIC)]
    assert queue[0].confidence == Decimal("0.900")  # PO and amount agree
    match_reject(tenant=tenant_a, match_id=queue[0].pk, actor=user_a)
    # Re-running does not suggest the rejected document again.
    payments_match(tenant=tenant_a)
    with tenant_scope(tenant_a):
        assert not selectors.review_queue(tenant=tenant_a).exists()
    manual = match_reassign(tenant=tenant_a, line_id=queue[0].line_id,
                            invoice_number="inv-000503", actor=user_a)
    assert (manual.status, manual.method, manual.invoice_id) == (
        MatchStatus.CONFIRMED, MatchMethod.MANUAL, target.pk)


@pytest.mark.django_db
def test_confirm_keeps_the_match_and_records_who(tenant_a, user_a):
    issued_document(tenant=tenant_a, number="INV-503", amount="300.00")
    data = b"Payment Number,Invoice Number,Amount Paid,Currency\nP1,INV-0503,300.00,USD\n"
    remittance_import_create(tenant=tenant_a, data=data, filename="x.csv")
    with tenant_scope(tenant_a):
        [suggestion] = selectors.review_queue(tenant=tenant_a)
    assert suggestion.reason == "number_similar"
    confirmed = match_confirm(tenant=tenant_a, match_id=suggestion.pk, actor=user_a)
    assert (confirmed.status, confirmed.decided_by_id) == (MatchStatus.CONFIRMED, user_a.pk)


@pytest.mark.django_db
def test_rerunning_matching_adds_nothing(tenant_a):
    us_invoices(tenant_a)
    load(tenant_a, "vc_export_us.csv")
    before = counts(tenant_a)
    result = payments_match(tenant=tenant_a)
    assert result["auto"] == result["needs_review"] == 0
    assert counts(tenant_a) == before


@pytest.mark.django_db
def test_currency_mismatch_is_never_automatic(tenant_a):
    issued_document(tenant=tenant_a, number="INV-000301", amount="500.00", currency="EUR")
    load(tenant_a, "vc_export_uk_utf16.txt")
    with tenant_scope(tenant_a):
        match = Match.objects.get(line__invoice_number_raw="INV-000301")
    assert (match.status, match.reason) == (MatchStatus.NEEDS_REVIEW, "currency_differs")


@pytest.mark.django_db
def test_every_format_imports_and_ledger_totals_stay_per_currency(tenant_a):
    for name in ["vc_export_us.csv", "vc_export_de_cp1252.csv", "vc_export_uk_utf16.txt",
                 "vc_export.xlsx", "remittance_advice.eml", "remittance_advice_pasted.txt",
                 "x12_820.edi", "x12_820_pipes.edi", "remadv_eu.edi",
                 "remadv_two_messages.edi"]:
        remittance_import, _ = load(tenant_a, name)
        assert remittance_import.status == ImportStatus.SUCCEEDED, (name, remittance_import.errors)
    with tenant_scope(tenant_a):
        totals = {row["currency"]: row for row in selectors.ledger_totals(tenant=tenant_a)}
        by_currency = {}
        for payment in Payment.objects.all():
            by_currency.setdefault(payment.currency, Decimal("0"))
            by_currency[payment.currency] += payment.lines_total
    assert set(totals) == {"USD", "EUR", "GBP"}
    for currency, row in totals.items():
        assert row["total"] == by_currency[currency]
        assert row["matched"] + row["unmatched"] == row["total"]


@pytest.mark.django_db
def test_credit_note_applied_in_a_remittance_settles_it(tenant_a):
    issued_document(tenant=tenant_a, number="INV-9", amount="100.00")
    issued_document(tenant=tenant_a, number="CN-9", amount="10.00",
                    kind=DocumentKind.CREDIT_NOTE)
    data = (b"Payment Number,Invoice Number,Amount Paid,Currency\n"
            b"P9,INV-9,100.00,USD\nP9,CN-9,-10.00,USD\n")
    remittance_import_create(tenant=tenant_a, data=data, filename="x.csv")
    with tenant_scope(tenant_a):
        items = selectors.open_items(tenant=tenant_a, as_of=dt.date(2026, 1, 1))
    assert items == []


@pytest.mark.django_db
def test_open_items_ageing_per_account_and_currency(tenant_a):
    old = issued_document(tenant=tenant_a, number="A-1", amount="100.00",
                          issue_date=dt.date(2025, 1, 1), due_date=dt.date(2025, 3, 1))
    issued_document(tenant=tenant_a, number="A-2", amount="40.00", currency="EUR",
                    issue_date=dt.date(2025, 12, 20), due_date=dt.date(2026, 2, 1),
                    account=old.account)
    with tenant_scope(tenant_a):
        items = selectors.open_items(tenant=tenant_a, as_of=dt.date(2026, 1, 1))
        ageing = selectors.open_items_ageing(items=items)
    assert [(row["currency"], row["over_90"], row["current"]) for row in ageing] == [
        ("EUR", Decimal("0"), Decimal("40.00")), ("USD", Decimal("100.00"), Decimal("0"))]


@pytest.mark.django_db
def test_mail_in_command_imports_an_eml_once(tenant_a, capsys):
    from django.core.management import call_command

    path = str(FIXTURES / "remittance_advice.eml")
    call_command("remittance_mail_in", "--tenant", tenant_a.slug, path)
    call_command("remittance_mail_in", "--tenant", tenant_a.slug, path)
    out = capsys.readouterr().out
    assert "1 payment(s), 2 line(s)" in out and "already imported" in out
    assert counts(tenant_a)[1:3] == (1, 2)


@pytest.mark.django_db
def test_large_files_run_on_the_default_queue(tenant_a, django_capture_on_commit_callbacks,
                                               monkeypatch):
    from reconciliation import tasks

    sent = []
    monkeypatch.setattr(tasks.remittance_import_run_task, "delay",
                        lambda **kwargs: sent.append(kwargs))
    data = (FIXTURES / "vc_export_us.csv").read_bytes()
    with django_capture_on_commit_callbacks(execute=True):
        remittance_import, _ = remittance_import_create(
            tenant=tenant_a, data=data, filename="big.csv", background=True)
    assert remittance_import.status == ImportStatus.PENDING
    assert sent == [{"tenant_id": tenant_a.pk, "import_id": remittance_import.pk}]
    assert tasks.remittance_import_run_task.queue == "default"
    # The worker's body: enter the tenant, run the import.
    tasks.remittance_import_run_task.run(**sent[0])
    with tenant_scope(tenant_a):
        remittance_import.refresh_from_db()
    assert remittance_import.status == ImportStatus.SUCCEEDED
    assert remittance_import.rows_done == remittance_import.rows_total == 4


@pytest.mark.django_db
def test_split_payments_across_lines_and_payments_settle_one_invoice(tenant_a):
    issued_document(tenant=tenant_a, number="SPLIT-1", amount="100.00")
    first = (b"Payment Number,Invoice Number,Amount Paid,Currency\n"
             b"PA,SPLIT-1,30.00,USD\nPA,SPLIT-1,30.00,USD\n")
    second = b"Payment Number,Invoice Number,Amount Paid,Currency\nPB,SPLIT-1,40.00,USD\n"
    remittance_import_create(tenant=tenant_a, data=first, filename="a.csv")
    with tenant_scope(tenant_a):
        [item] = selectors.open_items(tenant=tenant_a)
    assert (item.paid, item.balance) == (Decimal("60.00"), Decimal("40.00"))
    remittance_import_create(tenant=tenant_a, data=second, filename="b.csv")
    with tenant_scope(tenant_a):
        assert selectors.open_items(tenant=tenant_a) == []
        assert Match.objects.filter(status=MatchStatus.AUTO).count() == 3
