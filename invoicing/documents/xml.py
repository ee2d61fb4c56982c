"""The EN 16931 CII XML (Factur-X profile EN 16931) of one Document.

A small lxml builder we own, rather than drafthorse or factur-x's
generator: drafthorse models ZUGFeRD 2.3 and validates against its bundled
Factur-X 1.0.07 XSDs (older than the 1.09.2 we must pass), and factur-x's
``generate_xml`` takes a flat dict of BT keys that hides which element a
value lands in. The element order below follows the Factur-X 1.09.2
EN16931 XSD; the business terms are named in comments (EN 16931-1:2017).

Tax numbers follow the VAT rules: a party's VAT number goes out with
schemeID VA (BT-31/BT-48), other tax numbers (US sales tax permits, OSS,
IOSS) as the seller's tax registration (BT-32, schemeID FC). When the
document is "not subject to VAT" (category O), EN 16931 forbids VAT
numbers (BR-O-02), so none are written; ``party_tax_ids`` is shared with
the PDF so the two show the same numbers.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from lxml import etree

from acorn.money import currency_exponent
from invoicing.document import Document, Party

PROFILE_EN16931 = "urn:cen.eu:en16931:2017"
CONFORMANCE_LEVEL = "EN 16931"  # the XMP fx:ConformanceLevel of this profile
FILE_NAME = "factur-x.xml"

NS = {
    "rsm": "urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100",
    "ram": "urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100",
    "qdt": "urn:un:unece:uncefact:data:standard:QualifiedDataType:100",
    "udt": "urn:un:unece:uncefact:data:standard:UnqualifiedDataType:100",
}
VAT_SCHEMES = {"eu_vat", "uk_vat"}
# BT-130: UN/ECE Rec 20 "piece" for eaches, Rec 21 "case" for cases.
UNIT_CODES = {"Eaches": "H87", "Cases": "XCS"}
# BT-81 (UNTDID 4461): 58 SEPA credit transfer, 30 credit transfer.
SEPA_CURRENCIES = {"EUR"}
# Categories that carry no VAT rate on the line (BR-O-05) and need an
# exemption reason in the breakdown (BR-E-10, BR-IC-10, BR-AE-10, BR-G-10, BR-O-10).
EXEMPT_CATEGORIES = {"E", "AE", "K", "G", "O"}
DEFAULT_EXEMPTION = {
    "K": ("VATEX-EU-IC", "Intra-community supply"),
    "AE": ("VATEX-EU-AE", "Reverse charge"),
    "G": ("VATEX-EU-G", "Export outside the EU"),
    "O": ("VATEX-EU-O", "Not subject to VAT"),
    "E": ("", "Exempt from VAT"),
}


@dataclass(frozen=True, slots=True)
class TaxIds:
    vat: str = ""  # BT-31 / BT-48 (schemeID VA)
    tax_registration: str = ""  # BT-32 (schemeID FC)


def outside_vat(document: Document) -> bool:
    return any(t.category == "O" for t in document.tax_subtotals) or any(
        line.tax_category == "O" for line in document.lines
    )


def party_tax_ids(document: Document, party: Party) -> TaxIds:
    """The tax numbers a party shows on this document (XML and PDF alike)."""
    vat = next((t.number for t in party.tax_numbers if t.scheme in VAT_SCHEMES), "")
    other = next((t.number for t in party.tax_numbers if t.scheme not in VAT_SCHEMES), "")
    if outside_vat(document):
        vat = ""
    return TaxIds(vat=vat, tax_registration=other)


def amount_text(value: Decimal, currency: str) -> str:
    """An amount in the currency's precision (at most 2 decimals, BR-DEC-*)."""
    places = min(currency_exponent(currency), 2)
    return f"{value.quantize(Decimal(1).scaleb(-places)):f}"


def price_text(value: Decimal) -> str:
    """A unit price: as precise as the record, without trailing zeros past 2."""
    text = f"{value.normalize():f}"
    if "." not in text:
        return text + ".00"
    whole, fraction = text.split(".")
    return f"{whole}.{fraction.ljust(2, '0')}"


def rate_text(value: Decimal) -> str:
    return f"{value.quantize(Decimal('0.01')):f}"


def _el(parent, tag: str, text: str | None = None, **attrib) -> etree._Element:
    prefix, name = tag.split(":")
    element = etree.SubElement(parent, f"{{{NS[prefix]}}}{name}", attrib)
    if text is not None:
        element.text = text
    return element


def _date(parent, tag: str, value, qualified: bool = False) -> None:
    holder = _el(parent, tag)
    _el(holder, "qdt:DateTimeString" if qualified else "udt:DateTimeString",
        value.strftime("%Y%m%d"), format="102")


def _address(parent, party: Party) -> None:
    address = party.address
    postal = _el(parent, "ram:PostalTradeAddress")
    if address.postal_code:
        _el(postal, "ram:PostcodeCode", address.postal_code)
    if address.line1:
        _el(postal, "ram:LineOne", address.line1)
    if address.line2:
        _el(postal, "ram:LineTwo", address.line2)
    if address.city:
        _el(postal, "ram:CityName", address.city)
    _el(postal, "ram:CountryID", address.country_code)
    if address.region:
        _el(postal, "ram:CountrySubDivisionName", address.region)


def _party(parent, tag: str, document: Document, party: Party, *, role: str) -> None:
    element = _el(parent, tag)
    if party.party_id:
        _el(element, "ram:ID", party.party_id)  # BT-29 / BT-46 / BT-71
    _el(element, "ram:Name", party.name)
    if role == "ship_to":
        _address(element, party)  # BT-80 is what BR-IC-12 asks for
        return
    if party.registration_number:
        organisation = _el(element, "ram:SpecifiedLegalOrganization")
        _el(organisation, "ram:ID", party.registration_number)  # BT-30 / BT-47
    _address(element, party)
    if party.email:
        _el(_el(element, "ram:URIUniversalCommunication"), "ram:URIID", party.email,
            schemeID="EM")  # BT-34 / BT-49
    ids = party_tax_ids(document, party)
    if ids.vat:
        _el(_el(element, "ram:SpecifiedTaxRegistration"), "ram:ID", ids.vat, schemeID="VA")
    if role == "seller" and ids.tax_registration:
        _el(_el(element, "ram:SpecifiedTaxRegistration"), "ram:ID", ids.tax_registration,
            schemeID="FC")


def _exemption(category: str, code: str, reason: str) -> tuple[str, str]:
    if category not in EXEMPT_CATEGORIES:
        return "", ""
    default_code, default_reason = DEFAULT_EXEMPTION[category]
    return code or default_code, reason or default_reason


def _line(parent, document: Document, line) -> None:
    item = _el(parent, "ram:IncludedSupplyChainTradeLineItem")
    _el(_el(item, "ram:AssociatedDocumentLineDocument"), "ram:LineID", str(line.line_number))
    product = _el(item, "ram:SpecifiedTradeProduct")
    if line.gtin:
        _el(product, "ram:GlobalID", line.gtin, schemeID="0160")  # BT-157
    if line.vendor_sku:
        _el(product, "ram:SellerAssignedID", line.vendor_sku)  # BT-155
    if line.asin:
        _el(product, "ram:BuyerAssignedID", line.asin)  # BT-156
    _el(product, "ram:Name", line.description or line.vendor_sku or line.asin)  # BT-153
    if line.lot_number:
        characteristic = _el(product, "ram:ApplicableProductCharacteristic")
        _el(characteristic, "ram:Description", "Lot")  # BT-160
        _el(characteristic, "ram:Value", line.lot_number)  # BT-161
    if line.country_of_origin:
        _el(_el(product, "ram:OriginTradeCountry"), "ram:ID", line.country_of_origin)  # BT-159
    agreement = _el(item, "ram:SpecifiedLineTradeAgreement")
    if line.item_sequence_number:
        # BT-132: the PO line this bills (the PO itself is BT-13).
        _el(_el(agreement, "ram:BuyerOrderReferencedDocument"), "ram:LineID",
            line.item_sequence_number)
    _el(_el(agreement, "ram:NetPriceProductTradePrice"), "ram:ChargeAmount",
        price_text(line.net_unit_cost))  # BT-146
    _el(_el(item, "ram:SpecifiedLineTradeDelivery"), "ram:BilledQuantity", str(line.quantity),
        unitCode=UNIT_CODES.get(line.unit_of_measure, "H87"))  # BT-129 / BT-130
    settlement = _el(item, "ram:SpecifiedLineTradeSettlement")
    tax = _el(settlement, "ram:ApplicableTradeTax")
    _el(tax, "ram:TypeCode", "VAT")
    _el(tax, "ram:CategoryCode", line.tax_category)  # BT-151
    if line.tax_category != "O":
        _el(tax, "ram:RateApplicablePercent", rate_text(line.tax_rate))  # BT-152
    _el(_el(settlement, "ram:SpecifiedTradeSettlementLineMonetarySummation"),
        "ram:LineTotalAmount", amount_text(line.line_net_amount, document.currency))  # BT-131


def _payment_means(settlement, document: Document) -> None:
    bank = document.seller_bank
    if not bank.get("iban"):
        return
    means = _el(settlement, "ram:SpecifiedTradeSettlementPaymentMeans")
    _el(means, "ram:TypeCode", "58" if document.currency in SEPA_CURRENCIES else "30")  # BT-81
    account = _el(means, "ram:PayeePartyCreditorFinancialAccount")
    _el(account, "ram:IBANID", bank["iban"])  # BT-84
    if bank.get("name"):
        _el(account, "ram:AccountName", bank["name"])  # BT-85
    if bank.get("bic"):
        _el(_el(means, "ram:PayeeSpecifiedCreditorFinancialInstitution"), "ram:BICID",
            bank["bic"])  # BT-86


def _allowance_charge(settlement, document: Document, item) -> None:
    element = _el(settlement, "ram:SpecifiedTradeAllowanceCharge")
    _el(_el(element, "ram:ChargeIndicator"), "udt:Indicator",
        "true" if item.is_charge else "false")
    _el(element, "ram:ActualAmount", amount_text(item.amount, document.currency))  # BT-92/99
    if item.reason_code:
        _el(element, "ram:ReasonCode", item.reason_code)  # BT-98 / BT-105
    _el(element, "ram:Reason", item.reason or ("Charge" if item.is_charge else "Allowance"))
    tax = _el(element, "ram:CategoryTradeTax")
    _el(tax, "ram:TypeCode", "VAT")
    _el(tax, "ram:CategoryCode", item.tax_category)  # BT-95 / BT-102
    if item.tax_category != "O":
        _el(tax, "ram:RateApplicablePercent", rate_text(item.tax_rate))  # BT-96 / BT-103


def invoice_xml(document: Document) -> bytes:
    """The factur-x.xml of ``document`` (UTF-8, with declaration)."""
    currency = document.currency
    root = etree.Element(f"{{{NS['rsm']}}}CrossIndustryInvoice", nsmap=NS)
    context = _el(root, "rsm:ExchangedDocumentContext")
    _el(_el(context, "ram:GuidelineSpecifiedDocumentContextParameter"), "ram:ID",
        PROFILE_EN16931)  # BT-24
    header = _el(root, "rsm:ExchangedDocument")
    _el(header, "ram:ID", document.number)  # BT-1
    _el(header, "ram:TypeCode", document.type_code)  # BT-3
    _date(header, "ram:IssueDateTime", document.issue_date)  # BT-2
    if document.note:
        _el(_el(header, "ram:IncludedNote"), "ram:Content", document.note)  # BT-22

    transaction = _el(root, "rsm:SupplyChainTradeTransaction")
    for line in document.lines:
        _line(transaction, document, line)

    agreement = _el(transaction, "ram:ApplicableHeaderTradeAgreement")
    _party(agreement, "ram:SellerTradeParty", document, document.seller, role="seller")
    _party(agreement, "ram:BuyerTradeParty", document, document.buyer, role="buyer")
    if document.purchase_order_number:
        _el(_el(agreement, "ram:BuyerOrderReferencedDocument"), "ram:IssuerAssignedID",
            document.purchase_order_number)  # BT-13

    delivery = _el(transaction, "ram:ApplicableHeaderTradeDelivery")
    if document.ship_to.name or document.ship_to.address.country_code:
        _party(delivery, "ram:ShipToTradeParty", document, document.ship_to, role="ship_to")
    if document.delivery_date:
        event = _el(delivery, "ram:ActualDeliverySupplyChainEvent")
        _date(event, "ram:OccurrenceDateTime", document.delivery_date)  # BT-72

    settlement = _el(transaction, "ram:ApplicableHeaderTradeSettlement")
    _el(settlement, "ram:InvoiceCurrencyCode", currency)  # BT-5
    _payment_means(settlement, document)
    for subtotal in document.tax_subtotals:
        tax = _el(settlement, "ram:ApplicableTradeTax")
        _el(tax, "ram:CalculatedAmount", amount_text(subtotal.tax_amount, currency))  # BT-117
        _el(tax, "ram:TypeCode", "VAT")
        code, reason = _exemption(subtotal.category, subtotal.exemption_reason_code,
                                  subtotal.exemption_reason)
        if reason:
            _el(tax, "ram:ExemptionReason", reason)  # BT-120
        _el(tax, "ram:BasisAmount", amount_text(subtotal.taxable_amount, currency))  # BT-116
        _el(tax, "ram:CategoryCode", subtotal.category)  # BT-118
        if code:
            _el(tax, "ram:ExemptionReasonCode", code)  # BT-121
        if subtotal.category != "O":
            _el(tax, "ram:RateApplicablePercent", rate_text(subtotal.rate))  # BT-119
    for item in document.allowance_charges:
        _allowance_charge(settlement, document, item)
    if document.payment_terms or document.payment_due_date:
        terms = _el(settlement, "ram:SpecifiedTradePaymentTerms")
        if document.payment_terms:
            _el(terms, "ram:Description", document.payment_terms)  # BT-20
        if document.payment_due_date:
            _date(terms, "ram:DueDateDateTime", document.payment_due_date)  # BT-9
    summation = _el(settlement, "ram:SpecifiedTradeSettlementHeaderMonetarySummation")
    _el(summation, "ram:LineTotalAmount", amount_text(document.line_total, currency))  # BT-106
    _el(summation, "ram:ChargeTotalAmount", amount_text(document.charge_total, currency))
    _el(summation, "ram:AllowanceTotalAmount", amount_text(document.allowance_total, currency))
    _el(summation, "ram:TaxBasisTotalAmount",
        amount_text(document.tax_exclusive_total, currency))  # BT-109
    _el(summation, "ram:TaxTotalAmount", amount_text(document.tax_total, currency),
        currencyID=currency)  # BT-110
    _el(summation, "ram:GrandTotalAmount",
        amount_text(document.tax_inclusive_total, currency))  # BT-112
    _el(summation, "ram:DuePayableAmount", amount_text(document.amount_due, currency))  # BT-115
    if document.original_invoice_number:
        reference = _el(settlement, "ram:InvoiceReferencedDocument")
        _el(reference, "ram:IssuerAssignedID", document.original_invoice_number)  # BT-25
        if document.original_invoice_date:
            _date(reference, "ram:FormattedIssueDateTime", document.original_invoice_date,
                  qualified=True)  # BT-26
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)
