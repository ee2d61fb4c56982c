"""Vendor Invoices v1: submitInvoices (vendorInvoices.json).

Note the model's quirks: ``itemSequenceNumber`` is an integer here, the
address key is ``postalOrZipCode`` and parties carry a tax list.
"""

from __future__ import annotations

import datetime
import enum
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from vendor_api.types import (
    ItemQuantity,
    Money,
    Party,
    TransactionReceipt,
    format_datetime,
    format_decimal,
)


class InvoiceType(enum.StrEnum):
    INVOICE = "Invoice"
    CREDIT_NOTE = "CreditNote"


@dataclass(frozen=True)
class TaxDetail:
    tax_type: str  # VAT, GST, ... (the model's TaxDetails.taxType enum)
    tax_amount: Money
    tax_rate: Decimal | None = None
    taxable_amount: Money | None = None

    def to_json(self) -> dict:
        data: dict[str, Any] = {"taxType": self.tax_type, "taxAmount": self.tax_amount.to_json()}
        if self.tax_rate is not None:
            data["taxRate"] = format_decimal(self.tax_rate)
        if self.taxable_amount:
            data["taxableAmount"] = self.taxable_amount.to_json()
        return data


@dataclass(frozen=True)
class ChargeOrAllowance:
    kind: str  # a ChargeDetails.type or AllowanceDetails.type value
    amount: Money
    description: str | None = None
    tax_details: tuple[TaxDetail, ...] = ()

    def to_json(self, *, amount_key: str) -> dict:
        data: dict[str, Any] = {"type": self.kind, amount_key: self.amount.to_json()}
        if self.description:
            data["description"] = self.description
        if self.tax_details:
            data["taxDetails"] = [tax.to_json() for tax in self.tax_details]
        return data


@dataclass(frozen=True)
class PaymentTerms:
    terms_type: str | None = None
    discount_percent: Decimal | None = None
    discount_due_days: int | None = None
    net_due_days: int | None = None

    def to_json(self) -> dict:
        data: dict[str, Any] = {}
        if self.terms_type:
            data["type"] = self.terms_type
        if self.discount_percent is not None:
            data["discountPercent"] = format_decimal(self.discount_percent)
        if self.discount_due_days is not None:
            data["discountDueDays"] = self.discount_due_days
        if self.net_due_days is not None:
            data["netDueDays"] = self.net_due_days
        return data


@dataclass(frozen=True)
class CreditNoteDetails:
    """Amazon's references of a credit note (per item in this model).

    Which are required depends on the kind (spapi-vendor.md §4): AP credit
    notes (PPV, PQV) need ``reference_invoice_number``; returns need
    ``returns_reference_number`` and ``goods_return_date``; co-op needs
    ``coop_reference_number`` or ``debit_note_number``.
    """

    reference_invoice_number: str | None = None
    debit_note_number: str | None = None
    returns_reference_number: str | None = None
    goods_return_date: datetime.datetime | None = None
    rma_id: str | None = None
    coop_reference_number: str | None = None
    consignors_reference_number: str | None = None

    def to_json(self) -> dict:
        data: dict[str, Any] = {}
        for key, value in (
            ("referenceInvoiceNumber", self.reference_invoice_number),
            ("debitNoteNumber", self.debit_note_number),
            ("returnsReferenceNumber", self.returns_reference_number),
            ("rmaId", self.rma_id),
            ("coopReferenceNumber", self.coop_reference_number),
            ("consignorsReferenceNumber", self.consignors_reference_number),
        ):
            if value:
                data[key] = value
        if self.goods_return_date is not None:
            data["goodsReturnDate"] = format_datetime(self.goods_return_date)
        return data


@dataclass(frozen=True)
class InvoiceItem:
    item_sequence_number: int
    invoiced_quantity: ItemQuantity
    net_cost: Money
    purchase_order_number: str | None = None
    amazon_product_identifier: str | None = None
    vendor_product_identifier: str | None = None
    tax_details: tuple[TaxDetail, ...] = ()
    credit_note_details: CreditNoteDetails | dict | None = None

    def to_json(self) -> dict:
        data: dict[str, Any] = {
            "itemSequenceNumber": int(self.item_sequence_number),
            "invoicedQuantity": self.invoiced_quantity.to_json(),
            "netCost": self.net_cost.to_json(),
        }
        if self.purchase_order_number:
            data["purchaseOrderNumber"] = self.purchase_order_number
        if self.amazon_product_identifier:
            data["amazonProductIdentifier"] = self.amazon_product_identifier
        if self.vendor_product_identifier:
            data["vendorProductIdentifier"] = self.vendor_product_identifier
        if self.tax_details:
            data["taxDetails"] = [tax.to_json() for tax in self.tax_details]
        if isinstance(self.credit_note_details, CreditNoteDetails):
            details = self.credit_note_details.to_json()
            if details:
                data["creditNoteDetails"] = details
        elif self.credit_note_details:
            data["creditNoteDetails"] = self.credit_note_details
        return data


@dataclass(frozen=True)
class Invoice:
    invoice_type: InvoiceType
    invoice_id: str
    date: datetime.datetime
    remit_to_party: Party
    invoice_total: Money
    items: tuple[InvoiceItem, ...] = ()
    reference_number: str | None = None
    ship_to_party: Party | None = None
    ship_from_party: Party | None = None
    bill_to_party: Party | None = None
    payment_terms: PaymentTerms | None = None
    tax_details: tuple[TaxDetail, ...] = ()
    charges: tuple[ChargeOrAllowance, ...] = ()
    allowances: tuple[ChargeOrAllowance, ...] = ()
    extra: dict = field(default_factory=dict)

    def to_json(self) -> dict:
        def party(value: Party) -> dict:
            return value.to_json(postal_code_key="postalOrZipCode")

        data: dict[str, Any] = {
            "invoiceType": InvoiceType(self.invoice_type).value,
            "id": self.invoice_id,
            "date": format_datetime(self.date),
            "remitToParty": party(self.remit_to_party),
            "invoiceTotal": self.invoice_total.to_json(),
        }
        if self.reference_number:
            data["referenceNumber"] = self.reference_number
        for key, value in (
            ("shipToParty", self.ship_to_party),
            ("shipFromParty", self.ship_from_party),
            ("billToParty", self.bill_to_party),
        ):
            if value:
                data[key] = party(value)
        if self.payment_terms:
            data["paymentTerms"] = self.payment_terms.to_json()
        if self.tax_details:
            data["taxDetails"] = [tax.to_json() for tax in self.tax_details]
        if self.charges:
            data["chargeDetails"] = [c.to_json(amount_key="chargeAmount") for c in self.charges]
        if self.allowances:
            data["allowanceDetails"] = [
                a.to_json(amount_key="allowanceAmount") for a in self.allowances
            ]
        if self.items:
            data["items"] = [item.to_json() for item in self.items]
        data.update(self.extra)
        return data


def submit_invoices_body(invoices: list[Invoice] | tuple[Invoice, ...]) -> dict:
    """The SubmitInvoicesRequest body (no ``payload`` wrapper: the schema,
    not the model's example, is right; spapi-vendor.md §4)."""
    return {"invoices": [invoice.to_json() for invoice in invoices]}


# --- Amazon's business rules ------------------------------------------------
# What Amazon documents beyond the JSON schema (vendorInvoices.json field
# descriptions, "Submit credit notes"): an invoice breaking one of these is
# accepted with 202 and fails later in its transaction, or becomes a
# deduction. Checked before anything leaves.

CENT = Decimal("0.01")


def _amount(money: dict | None) -> Decimal | None:
    try:
        value = Decimal(str((money or {}).get("amount")))
    except (ArithmeticError, ValueError):
        return None
    return value if value.is_finite() else None


def _sum_amounts(rows: list | None, key: str) -> Decimal:
    return sum((_amount(row.get(key)) or Decimal(0) for row in rows or []), Decimal(0))


def credit_note_kind(details: dict) -> str | None:
    """Which credit note the references make: "ap" (PPV/PQV), "returns",
    "coop", or None when they name none."""
    if details.get("returnsReferenceNumber") or details.get("goodsReturnDate"):
        return "returns"
    if details.get("coopReferenceNumber"):
        return "coop"
    if details.get("referenceInvoiceNumber"):
        return "ap"
    if details.get("debitNoteNumber"):
        return "coop"
    return None


def credit_note_details_problems(details: dict | None, *, where: str) -> list[str]:
    details = details or {}
    kind = credit_note_kind(details)
    if kind is None:
        return [f"{where}: a credit note needs creditNoteDetails naming the original invoice "
                "(referenceInvoiceNumber), the return (returnsReferenceNumber) or the co-op "
                "agreement (coopReferenceNumber or debitNoteNumber)."]
    if kind == "returns":
        missing = [key for key in ("returnsReferenceNumber", "goodsReturnDate")
                   if not details.get(key)]
        if missing:
            return [f"{where}: a returns credit note needs {' and '.join(missing)}."]
    return []


def invoice_business_problems(invoice: dict) -> list[str]:
    """Amazon's documented rules for one Invoice of a submitInvoices body.

    - every item: invoicedQuantity > 0, netCost > 0 (net unit price);
    - Invoice items: purchaseOrderNumber (mandatory for invoices);
    - CreditNote items: the references their kind requires;
    - invoiceTotal = sum(netCost x quantity, each rounded to the cent) +
      taxes (invoice and item level) + charges - allowances, to the cent.
    """
    problems: list[str] = []
    number = invoice.get("id", "?")
    is_credit = invoice.get("invoiceType") == InvoiceType.CREDIT_NOTE
    computed = Decimal(0)
    items = invoice.get("items") or []
    if not items:
        problems.append(f"{number}: an invoice needs at least one item.")
    for item in items:
        where = f"{number} item {item.get('itemSequenceNumber', '?')}"
        quantity = (item.get("invoicedQuantity") or {}).get("amount")
        cost = _amount(item.get("netCost"))
        if not isinstance(quantity, int) or quantity <= 0:
            problems.append(f"{where}: invoicedQuantity must be greater than zero.")
            quantity = 0
        if cost is None or cost <= 0:
            problems.append(f"{where}: netCost must be greater than zero.")
            cost = Decimal(0)
        if not is_credit and not item.get("purchaseOrderNumber"):
            problems.append(f"{where}: purchaseOrderNumber is mandatory on invoice items.")
        if is_credit:
            problems.extend(credit_note_details_problems(item.get("creditNoteDetails"),
                                                         where=where))
        computed += (cost * quantity).quantize(CENT, rounding=ROUND_HALF_UP)
        computed += _sum_amounts(item.get("taxDetails"), "taxAmount")
        computed += _sum_amounts(item.get("chargeDetails"), "chargeAmount")
        computed -= _sum_amounts(item.get("allowanceDetails"), "allowanceAmount")
    computed += _sum_amounts(invoice.get("taxDetails"), "taxAmount")
    computed += _sum_amounts(invoice.get("chargeDetails"), "chargeAmount")
    computed -= _sum_amounts(invoice.get("allowanceDetails"), "allowanceAmount")
    total = _amount(invoice.get("invoiceTotal"))
    if total is None or total.quantize(CENT, rounding=ROUND_HALF_UP) != computed.quantize(
            CENT, rounding=ROUND_HALF_UP):
        problems.append(
            f"{number}: invoiceTotal {invoice.get('invoiceTotal', {}).get('amount')} is not "
            f"the lines plus taxes and charges less allowances ({computed})."
        )
    return problems


def submit_invoices_problems(body: dict) -> list[str]:
    """Amazon's business rules over a whole submitInvoices body (the
    schema is checked by ``vendor_api.contracts.request_problems``)."""
    problems: list[str] = []
    seen: set[str] = set()
    for invoice in body.get("invoices") or []:
        number = invoice.get("id")
        if number in seen:
            problems.append(f"{number}: the same invoice number twice in one request.")
        seen.add(number)
        problems.extend(invoice_business_problems(invoice))
    return problems


class InvoicesOperations:
    def submit_invoices(self, *, invoices: list[Invoice]) -> TransactionReceipt:
        response = self.transport.call(
            operation="submitInvoices", method="POST", path="/vendor/payments/v1/invoices",
            body=submit_invoices_body(invoices),
        )
        return self._transaction_receipt(response)
