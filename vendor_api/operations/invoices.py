"""Vendor Invoices v1: submitInvoices (vendorInvoices.json).

Note the model's quirks: ``itemSequenceNumber`` is an integer here, the
address key is ``postalOrZipCode`` and parties carry a tax list.
"""

from __future__ import annotations

import datetime
import enum
from dataclasses import dataclass, field
from decimal import Decimal
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
class InvoiceItem:
    item_sequence_number: int
    invoiced_quantity: ItemQuantity
    net_cost: Money
    purchase_order_number: str | None = None
    amazon_product_identifier: str | None = None
    vendor_product_identifier: str | None = None
    tax_details: tuple[TaxDetail, ...] = ()
    credit_note_details: dict | None = None

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
        if self.credit_note_details:
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


class InvoicesOperations:
    def submit_invoices(self, *, invoices: list[Invoice]) -> TransactionReceipt:
        response = self.transport.call(
            operation="submitInvoices", method="POST", path="/vendor/payments/v1/invoices",
            body={"invoices": [invoice.to_json() for invoice in invoices]},
        )
        return self._transaction_receipt(response)
