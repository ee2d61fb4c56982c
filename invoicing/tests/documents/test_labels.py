"""Document labels and money formats per document language."""

from decimal import Decimal as D

import pytest

from invoicing.documents import labels
from invoicing.documents.xml import amount_text, price_text
from invoicing.models import DocumentLanguage


def test_every_label_exists_in_every_document_language():
    assert set(labels.DOCUMENT_LANGUAGES) == set(DocumentLanguage.values)
    for key, texts in labels.LABELS.items():
        assert set(texts) == set(labels.DOCUMENT_LANGUAGES), key
        assert all(text.strip() for text in texts.values()), key


@pytest.mark.parametrize(("value", "currency", "language", "expected"), [
    (D("1234567.5"), "EUR", "de", "1.234.567,50 EUR"),
    (D("1234567.5"), "EUR", "fr", "1\u202f234\u202f567,50 EUR"),
    (D("1234567.5"), "USD", "en", "1,234,567.50 USD"),
    (D("1234567.5"), "CNY", "zh-Hans", "1,234,567.50 CNY"),
    (D("1234"), "JPY", "en", "1,234 JPY"),
    (D("12.3456"), "KWD", "en", "12.346 KWD"),
    (D("-10"), "GBP", "en", "-10.00 GBP"),
])
def test_money_is_written_in_the_currencys_precision_and_the_languages_style(
        value, currency, language, expected):
    assert labels.money_format(value, currency, language) == expected


def test_unit_prices_keep_their_extra_decimals_and_xml_amounts_have_at_most_two():
    assert labels.price_format(D("6.3330"), "GBP", "en") == "6.333 GBP"
    assert labels.price_format(D("7.4500"), "EUR", "de") == "7,45 EUR"
    assert (price_text(D("6.3330")), price_text(D("7"))) == ("6.333", "7.00")
    assert (amount_text(D("10.0000"), "EUR"), amount_text(D("1234"), "JPY")) == ("10.00",
                                                                                  "1234")


def test_an_unknown_language_is_refused():
    with pytest.raises(ValueError, match="Unknown document language"):
        labels.labels_for("xx")
