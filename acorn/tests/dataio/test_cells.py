"""Cell parsing: numbers bounded before arithmetic, identifier formats."""

import pytest
from django.core.exceptions import ValidationError

from acorn.dataio import (
    asin_validate,
    cell_decimal,
    cell_integer,
    cell_text,
    gtin_validate,
    sku_validate,
)


@pytest.mark.parametrize("text", [
    "1e1000000", "1e100000", "-1e100000", "1e-1000000", "nan", "Infinity", "sNaN",
    "9" * 41, "1e16", "1" * 17, float("inf"), float("nan"), True,
])
def test_huge_or_odd_numbers_are_refused_without_arithmetic(text):
    # 1e1000000 cost 25 s of CPU in int() before; 1e100000 raised in str()
    with pytest.raises(ValidationError):
        cell_decimal(text)
    with pytest.raises(ValidationError, match="Enter a whole number."):
        cell_integer(text)


@pytest.mark.parametrize(("value", "expected"), [
    ("6", 6), ("6.0", 6), (6.0, 6), ("1e3", 1000), (" 12 ", 12), ("", None), (None, None),
    ("-3", -3),
])
def test_whole_numbers(value, expected):
    assert cell_integer(value) == expected


def test_integers_outside_the_column_range_are_refused():
    with pytest.raises(ValidationError, match="between 1 and 2147483647"):
        cell_integer("2147483648", min_value=1)
    with pytest.raises(ValidationError, match="between 0 and"):
        cell_integer("-1", min_value=0)


def test_a_quote_added_by_our_export_is_removed_on_import():
    assert cell_text("'=SUM(A1)") == "=SUM(A1)"
    assert cell_text("'plain") == "'plain"


@pytest.mark.parametrize("good", ["B000000001", "0306406152"])
def test_asin_accepts(good):
    assert asin_validate(good) == good


@pytest.mark.parametrize("bad", ["B00000001", "B0000000011", "b000000001", "B00000000-"])
def test_asin_refuses(bad):
    with pytest.raises(ValidationError, match="An ASIN has 10 letters or digits."):
        asin_validate(bad)


@pytest.mark.parametrize("good", ["4006381333931", "73513537", "036000291452",
                                  "98412345678908"])
def test_gtin_accepts_valid_check_digits(good):
    assert gtin_validate(good) == good


@pytest.mark.parametrize("bad", ["4006381333932", "12345", "400638133393a", "٤٠٠٦٣٨١٣٣٣٩٣١",
                                 "123456789012345"])
def test_gtin_refuses_bad_check_digits_and_lengths(bad):
    with pytest.raises(ValidationError, match="GS1 check digit"):
        gtin_validate(bad)


@pytest.mark.parametrize("good", ["A-1", "abc_12.3/4", "SKU 12 #7", "茶-1"])
def test_sku_accepts(good):
    assert sku_validate(good) == good


@pytest.mark.parametrize("bad", ["=cmd|' /C calc'!A0", "+1", "-A", "@SUM(1)", "A\tB",
                                 "x" * 65, "A\x00", "_lead"])
def test_sku_refuses_formulas_controls_and_overlong(bad):
    with pytest.raises(ValidationError, match="A SKU has 1 to 64"):
        sku_validate(bad)
