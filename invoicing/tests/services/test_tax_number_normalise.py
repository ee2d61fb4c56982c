"""Tax numbers are checked with python-stdnum before an invoice can carry them."""

import pytest
from django.core.exceptions import ValidationError

from invoicing.models import TaxScheme
from invoicing.services import tax_number_normalise


@pytest.mark.parametrize(
    ("scheme", "country", "state", "number", "expected"),
    [
        # Published check-digit examples (python-stdnum's test vectors use
        # the same public numbers of large companies).
        (TaxScheme.EU_VAT, "DE", "", "DE 136,695 976", "DE136695976"),
        (TaxScheme.EU_VAT, "DE", "", "136695976", "DE136695976"),
        (TaxScheme.EU_VAT, "GR", "", "094259216", "EL094259216"),
        (TaxScheme.EU_VAT, "FR", "", "FR 40 303 265 045", "FR40303265045"),
        (TaxScheme.UK_VAT, "GB", "", "GB 980 7806 84", "GB980780684"),
        (TaxScheme.EU_IOSS, "NL", "", "IM5280000014", "IM5280000014"),
        (TaxScheme.EU_OSS, "IE", "", "EU 372022452", "EU372022452"),
        (TaxScheme.US_SALES_TAX, "US", "CA", "sr ky 123-456789", "SR KY 123-456789"),
        (TaxScheme.OTHER, "CN", "", "91440300MA5DXXXXXX", "91440300MA5DXXXXXX"),
    ],
)
def test_valid_numbers_come_back_canonical(scheme, country, state, number, expected):
    assert tax_number_normalise(
        scheme=scheme, country_code=country, state=state, number=number
    ) == expected


@pytest.mark.parametrize(
    ("scheme", "country", "state", "number", "message"),
    [
        (TaxScheme.EU_VAT, "DE", "", "DE136695977", "checksum"),
        (TaxScheme.EU_VAT, "FR", "", "DE136695976", "is not one of FR"),
        (TaxScheme.UK_VAT, "GB", "", "GB980780685", "checksum"),
        (TaxScheme.EU_IOSS, "IE", "", "EU 372022452", "starts with IM"),
        (TaxScheme.EU_OSS, "NL", "", "IM5280000014", "starts with EU"),
        (TaxScheme.US_SALES_TAX, "US", "", "123", "state code"),
        (TaxScheme.US_SALES_TAX, "US", "ZZ", "123", "state code"),
        (TaxScheme.US_SALES_TAX, "US", "TX", "12;DROP", "letters, digits"),
    ],
)
def test_invalid_numbers_are_refused_with_the_reason(scheme, country, state, number, message):
    with pytest.raises(ValidationError) as caught:
        tax_number_normalise(scheme=scheme, country_code=country, state=state, number=number)
    assert message in " ".join(caught.value.messages)
