"""Issued invoices and credit notes over the tax cases the documents must get
right, built as real records (factories + the issue service), so every
document test goes record -> Document -> XML/PDF like the product does.

Cases: EU domestic S 19 % (EUR, with freight charge and discount), EU
intra-community K (EUR, VATEX-EU-IC, ship-to PL), UK S 20 % (GBP), US O
(USD, no VAT numbers), and a credit note (381) correcting the domestic one.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal as D

from acorn.tenancy import tenant_scope
from invoicing.models import (
    CreditReason,
    DocumentKind,
    InvoiceAllowanceCharge,
    NumberSeries,
    TaxProfile,
)
from invoicing.services import invoice_issue, invoice_recalculate, legal_entity_set
from invoicing.tests.factories import InvoiceFactory, InvoiceLineFactory

SELLER_DE = {"name": "Lotus Trading GmbH", "registration_number": "HRB 12345 B",
             "email": "invoices@lotus.example",
             "address": {"line1": "Friedrichstraße 1", "city": "Berlin", "postal_code": "10117",
                         "country_code": "DE"},
             "tax_numbers": [{"scheme": "eu_vat", "number": "DE136695976",
                              "country_code": "DE", "state": ""}]}
SELLER_UK = {"name": "Lotus Trading Ltd", "address": {
    "line1": "1 King Street", "city": "London", "postal_code": "EC2V 8AU", "country_code": "GB"},
    "tax_numbers": [{"scheme": "uk_vat", "number": "GB980780684", "country_code": "GB",
                     "state": ""}]}
SELLER_US = {"name": "Lotus Trading Inc.", "party_id": "LOTUS1", "address": {
    "line1": "100 Pine Street", "city": "Seattle", "postal_code": "98101", "region": "WA",
    "country_code": "US"},
    "tax_numbers": [{"scheme": "us_sales_tax", "number": "603-123-456", "country_code": "US",
                     "state": "WA"},
                    {"scheme": "eu_vat", "number": "DE136695976", "country_code": "DE",
                     "state": ""}]}
AMAZON_DE = {"name": "Amazon EU S.à r.l., Niederlassung Deutschland", "party_id": "AMAZON-DE",
             "address": {"line1": "Marcel-Breuer-Straße 12", "city": "München",
                         "postal_code": "80807", "country_code": "DE"},
             "tax_numbers": [{"scheme": "eu_vat", "number": "DE814584193",
                              "country_code": "DE", "state": ""}]}
AMAZON_LU = {"name": "Amazon EU S.à r.l.", "party_id": "AMAZON-EU",
             "address": {"line1": "38 avenue John F. Kennedy", "city": "Luxembourg",
                         "postal_code": "1855", "country_code": "LU"},
             "tax_numbers": [{"scheme": "eu_vat", "number": "LU26375245",
                              "country_code": "LU", "state": ""}]}
AMAZON_UK = {"name": "Amazon UK Services Ltd.", "party_id": "AMAZON-UK",
             "address": {"line1": "1 Principal Place, Worship Street", "city": "London",
                         "postal_code": "EC2A 2FA", "country_code": "GB"},
             "tax_numbers": [{"scheme": "uk_vat", "number": "GB727255821",
                              "country_code": "GB", "state": ""}]}
AMAZON_US = {"name": "Amazon.com Services LLC", "party_id": "AMAZON-US",
             "address": {"line1": "PO Box 80387", "city": "Seattle", "postal_code": "98108",
                         "region": "WA", "country_code": "US"}}


def _ship_to(code, line1, city, postal_code, country):
    return {"name": f"Amazon fulfilment centre {code}", "party_id": code,
            "address": {"line1": line1, "city": city, "postal_code": postal_code,
                        "country_code": country}}


CASES = {
    "eu_domestic_s": dict(
        currency="EUR", seller=SELLER_DE, buyer=AMAZON_DE,
        ship_to=_ship_to("LEJ1", "Amazonstraße 1", "Leipzig", "04347", "DE"),
        category="S", rate=D("19.00"), cost=D("7.45"),
        extras=[(True, "FC", "Freight", D("25.00")), (False, "95", "Promotion", D("10.00"))]),
    "eu_intra_community_k": dict(
        currency="EUR", seller=SELLER_DE, buyer=AMAZON_LU,
        ship_to=_ship_to("WRO5", "ul. Logistyczna 6", "Bielany Wrocławskie", "55-040", "PL"),
        category="K", rate=D("0"), cost=D("7.45"), exemption=("VATEX-EU-IC",
                                                               "Intra-community supply")),
    "uk_s20": dict(
        currency="GBP", seller=SELLER_UK, buyer=AMAZON_UK,
        ship_to=_ship_to("BHX4", "Plot 1 Kingsbury Road", "Coleshill", "B46 1DL", "GB"),
        category="S", rate=D("20.00"), cost=D("6.333")),
    "us_o": dict(
        currency="USD", seller=SELLER_US, buyer=AMAZON_US,
        ship_to=_ship_to("SEA8", "1475 124th Ave NE", "Bellevue", "98005", "US"),
        category="O", rate=D("0"), cost=D("8.10"), exemption=("VATEX-EU-O",
                                                              "Not subject to VAT")),
}
DESCRIPTIONS = ["龙井绿茶 Longjing green tea, 100 g", "Jasmine pearls 茉莉龙珠, 50 g",
                "Oolong tea 铁观音, 250 g"]


def _entity(tenant):
    legal_entity_set(tenant=tenant, data={
        "legal_name": "Lotus Trading GmbH", "address_line1": "Friedrichstraße 1",
        "city": "Berlin", "postal_code": "10117", "country_code": "DE",
        "iban": "DE89370400440532013000", "bic": "COBADEFFXXX", "bank_name": "Commerzbank"})


def issued_case(tenant, name: str, *, lines: int = 3):
    """An issued invoice of case ``name`` for ``tenant`` (all real rows)."""
    case = CASES[name]
    _entity(tenant)
    with tenant_scope(tenant):
        profile = None
        if case.get("exemption"):
            profile, _ = TaxProfile.objects.get_or_create(
                tenant=tenant, marketplace_id=name[:20], ship_to_country="",
                defaults={"name": name, "category": case["category"], "rate": case["rate"],
                          "exemption_reason_code": case["exemption"][0],
                          "exemption_reason": case["exemption"][1]})
        series, _ = NumberSeries.objects.get_or_create(
            tenant=tenant, code="INV", defaults={"kind": DocumentKind.INVOICE,
                                                 "prefix": "INV-"})
        invoice = InvoiceFactory(
            tenant=tenant, series=series, currency=case["currency"], seller=case["seller"],
            buyer=case["buyer"], ship_to=case["ship_to"], tax_profile=profile,
            payment_terms="Net 60 days", payment_due_date=dt.date(2027, 1, 30),
            delivery_date=dt.date(2026, 11, 28), marketplace_id="A1PA6795UKMFR9")
        for number in range(1, lines + 1):
            InvoiceLineFactory(
                invoice=invoice, line_number=number, item_sequence_number=str(number),
                asin=f"B0TEA{number:05d}", vendor_sku=f"TEA-{number}",
                gtin="4006381333931", description=DESCRIPTIONS[(number - 1) % 3],
                quantity=12 * number, net_unit_cost=case["cost"],
                tax_category=case["category"], tax_rate=case["rate"],
                lot_number=f"L2026-{number:02d}", country_of_origin="CN")
        for is_charge, code, reason, amount in case.get("extras", []):
            InvoiceAllowanceCharge.objects.create(
                tenant=tenant, invoice=invoice, is_charge=is_charge, reason_code=code,
                reason=reason, amount=amount, tax_category=case["category"],
                tax_rate=case["rate"])
        invoice_recalculate(invoice=invoice)
    return invoice_issue(tenant=tenant, invoice_id=invoice.pk,
                         issue_date=dt.date(2026, 12, 1))


def issued_credit_note(tenant, original):
    """A PPV credit note (381) correcting ``original``'s first line."""
    with tenant_scope(tenant):
        series, _ = NumberSeries.objects.get_or_create(
            tenant=tenant, code="CN", defaults={"kind": DocumentKind.CREDIT_NOTE,
                                                "prefix": "CN-"})
        first = original.lines.order_by("line_number").first()
        note = InvoiceFactory(
            tenant=tenant, kind=DocumentKind.CREDIT_NOTE, series=series,
            currency=original.currency, seller=original.seller, buyer=original.buyer,
            ship_to=original.ship_to, tax_profile=original.tax_profile,
            account=original.account, purchase_order_number=original.purchase_order_number,
            original_invoice=original, credit_reason=CreditReason.PRICE,
            payment_terms="Offset against open invoices", note="Price correction (PPV)")
        InvoiceLineFactory(
            invoice=note, line_number=1, item_sequence_number=first.item_sequence_number,
            asin=first.asin, vendor_sku=first.vendor_sku, gtin=first.gtin,
            description=first.description, quantity=first.quantity,
            net_unit_cost=D("0.50"), tax_category=first.tax_category, tax_rate=first.tax_rate)
        invoice_recalculate(invoice=note)
    return invoice_issue(tenant=tenant, invoice_id=note.pk, issue_date=dt.date(2026, 12, 2))
