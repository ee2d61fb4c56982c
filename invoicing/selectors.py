"""Reads of the invoicing app."""

from __future__ import annotations

from django.db.models import QuerySet

from invoicing.models import LegalEntity, TaxRegistration


def legal_entity_get(*, tenant) -> LegalEntity | None:
    return LegalEntity.objects.filter(tenant=tenant).first()


def tax_registration_list(*, tenant) -> QuerySet[TaxRegistration]:
    return TaxRegistration.objects.filter(tenant=tenant).order_by(
        "scheme", "country_code", "state", "id"
    )


def setup_status(*, tenant) -> dict[str, bool]:
    """Done-or-not of the invoicing step: a legal entity with a tax number."""
    return {
        "legal_entity": LegalEntity.objects.filter(tenant=tenant).exists()
        and TaxRegistration.objects.filter(tenant=tenant).exists(),
    }


def invoice_submission_status(*, tenant, invoice_ids) -> dict[int, dict]:
    """Submission status of each invoice, as plain data (two queries).

    ``{invoice_id: {"state", "label", "submission_id", "transaction_id",
    "errors", "detail", "can_retry", "updated_at"}}``; ``state`` is a
    channels SubmissionStatus value, or "draft", "not_submitted" or
    "recorded_not_submitted" (credit notes where Amazon documents no API
    route). For the invoice pages, the API serializer and bulk actions.
    """
    from django.utils.translation import gettext as _

    from channels.models import DocumentType, Submission, SubmissionStatus
    from invoicing.document import Party
    from invoicing.models import DocumentKind, Invoice, InvoiceStatus
    from invoicing.services.submission import (
        RECORDED_NOT_SUBMITTED,
        SUBMISSION_VERSION,
        SubmissionState,
        credit_note_country,
    )

    rows = list(
        Invoice.objects.filter(tenant=tenant, pk__in=list(invoice_ids)).values(
            "pk", "kind", "status", "number", "account_id", "marketplace_id", "buyer", "seller")
    )
    numbers = [row["number"] for row in rows if row["number"]]
    submissions = {
        (s.account_id, s.document_ref): s
        for s in Submission.objects.filter(
            tenant=tenant, document_type=DocumentType.INVOICE, document_ref__in=numbers,
            document_version=SUBMISSION_VERSION,
        ).only("pk", "account_id", "document_ref", "status", "transaction_id", "errors",
               "status_detail", "updated_at")
    }
    retryable = {SubmissionStatus.SENDING, SubmissionStatus.OUTCOME_UNKNOWN,
                 SubmissionStatus.STALE}
    labels = dict(SubmissionStatus.choices)
    result: dict[int, dict] = {}
    for row in rows:
        entry = {"state": SubmissionState.NOT_SUBMITTED, "label": _("Not submitted"),
                 "submission_id": None, "transaction_id": "", "errors": [], "detail": "",
                 "can_retry": False, "updated_at": None}
        submission = submissions.get((row["account_id"], row["number"]))
        if row["status"] == InvoiceStatus.DRAFT:
            entry.update(state=SubmissionState.DRAFT, label=_("Draft: not sent"))
        elif submission is not None:
            entry.update(
                state=submission.status, label=str(labels.get(submission.status)),
                submission_id=submission.pk, transaction_id=submission.transaction_id,
                errors=list(submission.errors or []), detail=submission.status_detail,
                can_retry=submission.status in retryable, updated_at=submission.updated_at,
            )
        elif row["kind"] == DocumentKind.CREDIT_NOTE:
            country = credit_note_country(
                marketplace_id=row["marketplace_id"], buyer=Party.from_dict(row["buyer"]),
                seller=Party.from_dict(row["seller"]))
            if country is not None:
                message = _(RECORDED_NOT_SUBMITTED) % {"country": country}
                entry.update(state=SubmissionState.RECORDED_NOT_SUBMITTED, label=message,
                             detail=message)
        result[row["pk"]] = entry
    return result
