"""document_from_invoice: the one neutral form every output is built from."""

from decimal import Decimal as D

import pytest

from acorn.tenancy import tenant_scope
from invoicing.document import Party, document_from_invoice
from invoicing.services import invoice_issue, legal_entity_set
from invoicing.tests.factories import InvoiceLineFactory


@pytest.mark.django_db
def test_the_document_carries_the_records_numbers_parties_and_bank(tenant_a):
    legal_entity_set(tenant=tenant_a, data={
        "legal_name": "Lotus Trading GmbH", "address_line1": "Friedrichstraße 1",
        "city": "Berlin", "country_code": "DE", "iban": "DE89370400440532013000",
        "bic": "COBADEFFXXX", "bank_name": "Commerzbank"})
    with tenant_scope(tenant_a):
        line = InvoiceLineFactory(invoice__tenant=tenant_a, quantity=4, net_unit_cost=D("2.50"),
                                  gtin="4006381333931")
    invoice = invoice_issue(tenant=tenant_a, invoice_id=line.invoice_id)
    with tenant_scope(tenant_a):
        document = document_from_invoice(invoice)
    assert document.type_code == "380"
    assert document.number == invoice.number and document.issue_date == invoice.issue_date
    assert document.seller.tax_numbers[0].number == "DE136695976"
    assert document.buyer.party_id == "AMAZON-EU"
    assert [(x.quantity, x.line_net_amount, x.gtin) for x in document.lines] == [
        (4, D("10.0000"), "4006381333931")]
    assert document.tax_inclusive_total == D("11.9000")
    assert document.seller_bank == {"iban": "DE89370400440532013000", "bic": "COBADEFFXXX",
                                    "name": "Commerzbank"}


def test_a_party_survives_the_round_trip_through_its_json_snapshot():
    data = {"name": "Amazon EU SARL", "party_id": "X", "address": {"line1": "a", "line2": "",
            "city": "c", "postal_code": "1", "region": "", "country_code": "LU"},
            "tax_numbers": [{"scheme": "eu_vat", "number": "LU26375245", "country_code": "LU",
                             "state": ""}], "registration_number": "", "email": ""}
    assert Party.from_dict(data).as_dict() == data
