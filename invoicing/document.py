"""The neutral form of one invoice or credit note, built from the record.

Every output (Amazon's submitInvoices payload, the EN 16931 CII XML, the
PDF/A-3 page) is made from this one ``Document``, so they cannot disagree
on a number, a party or a reference. Field comments give the EN 16931
business term each value becomes (BT-/BG- numbers, EN 16931-1:2017).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from invoicing.models import LegalEntity

# EN 16931 document type codes (UNTDID 1001): 380 invoice, 381 credit note.
TYPE_CODE = {"invoice": "380", "credit_note": "381"}


@dataclass(frozen=True, slots=True)
class Address:
    line1: str = ""  # BT-35 / BT-50 / BT-75
    line2: str = ""  # BT-36 / BT-51 / BT-76
    city: str = ""  # BT-37 / BT-52 / BT-77
    postal_code: str = ""  # BT-38 / BT-53 / BT-78
    region: str = ""  # BT-39 / BT-54 / BT-79
    country_code: str = ""  # BT-40 / BT-55 / BT-80


@dataclass(frozen=True, slots=True)
class TaxNumber:
    scheme: str  # invoicing.models.TaxScheme value
    number: str  # BT-31 (VAT, schemeID VA) / BT-32 (FC) / BT-48
    country_code: str = ""
    state: str = ""


@dataclass(frozen=True, slots=True)
class Party:
    name: str  # BT-27 / BT-44 / BT-70
    party_id: str = ""  # Amazon's partyId (vendor code, FC code), BT-29/BT-46/BT-71
    address: Address = field(default_factory=Address)
    tax_numbers: tuple[TaxNumber, ...] = ()
    registration_number: str = ""  # BT-30
    email: str = ""  # BT-43

    def as_dict(self) -> dict:
        return {
            "name": self.name, "party_id": self.party_id,
            "address": {k: getattr(self.address, k) for k in Address.__slots__},
            "tax_numbers": [
                {"scheme": t.scheme, "number": t.number, "country_code": t.country_code,
                 "state": t.state} for t in self.tax_numbers
            ],
            "registration_number": self.registration_number, "email": self.email,
        }

    @classmethod
    def from_dict(cls, data: dict | None) -> Party:
        data = data or {}
        return cls(
            name=data.get("name", ""), party_id=data.get("party_id", ""),
            address=Address(**{k: data.get("address", {}).get(k, "") for k in Address.__slots__}),
            tax_numbers=tuple(TaxNumber(**t) for t in data.get("tax_numbers", [])),
            registration_number=data.get("registration_number", ""),
            email=data.get("email", ""),
        )


@dataclass(frozen=True, slots=True)
class Line:
    line_number: int  # BT-126
    item_sequence_number: str  # Amazon's itemSequenceNumber
    purchase_order_number: str  # BT-132 (line order reference)
    asin: str  # BT-156 buyer's item identifier
    vendor_sku: str  # BT-155 seller's item identifier
    gtin: str  # BT-157 (schemeID 0160)
    description: str  # BT-153 item name
    quantity: int  # BT-129
    unit_of_measure: str  # Eaches -> H87, Cases -> XCS (BT-130)
    unit_size: int
    net_unit_cost: Decimal  # BT-146
    line_net_amount: Decimal  # BT-131
    tax_category: str  # BT-151
    tax_rate: Decimal  # BT-152
    lot_number: str = ""
    country_of_origin: str = ""  # BT-159


@dataclass(frozen=True, slots=True)
class AllowanceCharge:
    is_charge: bool  # BG-21 when true, BG-20 when false
    amount: Decimal  # BT-99 / BT-92
    reason_code: str  # BT-105 (UNTDID 7161) / BT-98 (UNTDID 5189)
    reason: str  # BT-104 / BT-97
    tax_category: str  # BT-102 / BT-95
    tax_rate: Decimal  # BT-103 / BT-96


@dataclass(frozen=True, slots=True)
class TaxSubtotal:
    category: str  # BT-118
    rate: Decimal  # BT-119
    taxable_amount: Decimal  # BT-116
    tax_amount: Decimal  # BT-117
    exemption_reason_code: str = ""  # BT-121
    exemption_reason: str = ""  # BT-120


@dataclass(frozen=True, slots=True)
class Document:
    kind: str  # "invoice" | "credit_note"
    number: str  # BT-1
    issue_date: date  # BT-2
    currency: str  # BT-5
    seller: Party  # BG-4 (and remit-to: Amazon's remitToParty)
    buyer: Party  # BG-7 (Amazon's billToParty)
    ship_to: Party  # BG-13
    purchase_order_number: str  # BT-13
    lines: tuple[Line, ...]
    allowance_charges: tuple[AllowanceCharge, ...]
    tax_subtotals: tuple[TaxSubtotal, ...]
    line_total: Decimal  # BT-106
    allowance_total: Decimal  # BT-107
    charge_total: Decimal  # BT-108
    tax_exclusive_total: Decimal  # BT-109
    tax_total: Decimal  # BT-110
    tax_inclusive_total: Decimal  # BT-112
    amount_due: Decimal  # BT-115
    payment_terms: str = ""  # BT-20
    payment_due_date: date | None = None  # BT-9
    delivery_date: date | None = None  # BT-72
    seller_bank: dict = field(default_factory=dict)  # BG-17: {"iban", "bic", "name"}
    note: str = ""  # BT-22
    original_invoice_number: str = ""  # BT-25 (credit notes)
    original_invoice_date: date | None = None  # BT-26
    credit_reason: str = ""  # invoicing.models.CreditReason value
    credit_references: dict = field(default_factory=dict)  # Amazon's creditNoteDetails
    marketplace_id: str = ""

    @property
    def type_code(self) -> str:
        return TYPE_CODE[self.kind]


def document_from_invoice(invoice) -> Document:
    """The Document of an invoice record (lines and tax lines prefetched
    or not: four queries at most)."""
    entity = LegalEntity.objects.filter(tenant_id=invoice.tenant_id).first()
    bank = (
        {"iban": entity.iban, "bic": entity.bic, "name": entity.bank_name}
        if entity and entity.iban else {}
    )
    original = invoice.original_invoice
    return Document(
        kind=invoice.kind, number=invoice.number, issue_date=invoice.issue_date,
        currency=invoice.currency, seller=Party.from_dict(invoice.seller),
        buyer=Party.from_dict(invoice.buyer), ship_to=Party.from_dict(invoice.ship_to),
        purchase_order_number=invoice.purchase_order_number,
        lines=tuple(
            Line(
                line_number=line.line_number, item_sequence_number=line.item_sequence_number,
                purchase_order_number=line.purchase_order_number or invoice.purchase_order_number,
                asin=line.asin, vendor_sku=line.vendor_sku, gtin=line.gtin,
                description=line.description, quantity=line.quantity,
                unit_of_measure=line.unit_of_measure, unit_size=line.unit_size,
                net_unit_cost=line.net_unit_cost, line_net_amount=line.line_net_amount,
                tax_category=line.tax_category, tax_rate=line.tax_rate,
                lot_number=line.lot_number, country_of_origin=line.country_of_origin,
            )
            for line in invoice.lines.all()
        ),
        allowance_charges=tuple(
            AllowanceCharge(
                is_charge=x.is_charge, amount=x.amount, reason_code=x.reason_code,
                reason=x.reason, tax_category=x.tax_category, tax_rate=x.tax_rate,
            )
            for x in invoice.allowance_charges.all()
        ),
        tax_subtotals=tuple(
            TaxSubtotal(
                category=t.category, rate=t.rate, taxable_amount=t.taxable_amount,
                tax_amount=t.tax_amount, exemption_reason_code=t.exemption_reason_code,
                exemption_reason=t.exemption_reason,
            )
            for t in invoice.tax_lines.all()
        ),
        line_total=invoice.line_total, allowance_total=invoice.allowance_total,
        charge_total=invoice.charge_total, tax_exclusive_total=invoice.tax_exclusive_total,
        tax_total=invoice.tax_total, tax_inclusive_total=invoice.tax_inclusive_total,
        amount_due=invoice.amount_due, payment_terms=invoice.payment_terms,
        payment_due_date=invoice.payment_due_date, delivery_date=invoice.delivery_date,
        seller_bank=bank, note=invoice.note,
        original_invoice_number=original.number if original else "",
        original_invoice_date=original.issue_date if original else None,
        credit_reason=invoice.credit_reason, credit_references=dict(invoice.credit_references),
        marketplace_id=invoice.marketplace_id,
    )
