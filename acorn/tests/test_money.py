from decimal import Decimal

import pytest

from acorn.money import quantize_money
from acorn.templatetags.acorn_format import money


def test_quantize_uses_the_currency_precision_half_up():
    assert quantize_money(Decimal("2.345"), "USD") == Decimal("2.35")
    assert quantize_money(Decimal("2.5"), "JPY") == Decimal("3")
    assert quantize_money(Decimal("1.0005"), "KWD") == Decimal("1.001")


def test_float_money_is_refused():
    with pytest.raises(TypeError, match="Money must be Decimal, not float."):
        quantize_money(2.5, "USD")


def test_money_filter_formats_for_people():
    assert money(Decimal("28538.2200"), "USD") == "28,538.22 USD"
    assert money(None, "USD") == ""
    assert money(Decimal("1200"), "JPY") == "1,200 JPY"
