"""Factories of the invoicing app; related rows take the parent's tenant."""

from decimal import Decimal

import factory

from channels.tests.factories import AmazonVendorAccountFactory
from inventory.tests.factories import TenantFactory
from invoicing.models import (
    DocumentKind,
    Invoice,
    InvoiceLine,
    NumberSeries,
    TaxCategory,
)


class NumberSeriesFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = NumberSeries

    tenant = factory.SubFactory(TenantFactory)
    code = factory.Sequence(lambda n: f"S{n}")
    kind = DocumentKind.INVOICE
    prefix = "INV-"


class InvoiceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Invoice

    tenant = factory.SubFactory(TenantFactory)
    kind = DocumentKind.INVOICE
    series = factory.SubFactory(NumberSeriesFactory, tenant=factory.SelfAttribute("..tenant"))
    account = factory.SubFactory(
        AmazonVendorAccountFactory, tenant=factory.SelfAttribute("..tenant")
    )
    currency = "EUR"
    purchase_order_number = factory.Sequence(lambda n: f"PO{n:06d}")
    seller = factory.LazyFunction(lambda: {"name": "Lotus Trading GmbH", "address": {
        "line1": "Friedrichstraße 1", "city": "Berlin", "postal_code": "10117",
        "country_code": "DE"}, "tax_numbers": [
        {"scheme": "eu_vat", "number": "DE136695976", "country_code": "DE", "state": ""}]})
    buyer = factory.LazyFunction(lambda: {"name": "Amazon EU SARL", "party_id": "AMAZON-EU",
                                          "address": {"line1": "38 avenue John F. Kennedy",
                                                      "city": "Luxembourg",
                                                      "postal_code": "1855",
                                                      "country_code": "LU"}})


class InvoiceLineFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = InvoiceLine

    tenant = factory.SelfAttribute("invoice.tenant")
    invoice = factory.SubFactory(InvoiceFactory)
    line_number = factory.Sequence(lambda n: n + 1)
    item_sequence_number = factory.LazyAttribute(lambda o: str(o.line_number))
    asin = "B000000001"
    vendor_sku = "TEA-1"
    quantity = 10
    net_unit_cost = Decimal("9.99")
    tax_category = TaxCategory.STANDARD
    tax_rate = Decimal("19.00")
