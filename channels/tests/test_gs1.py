"""SSCC and GS1 check digits against published GS1 examples."""

import pytest

from channels.gs1 import (
    gs1_128_sscc_data,
    gs1_check_digit,
    gs1_is_valid,
    sscc_build,
)


@pytest.mark.parametrize(
    "number",
    [
        # GS1 General Specifications, AI (00) example.
        "106141411234567897",
        # GS1 General Specifications, GTIN-13 / GTIN-12 / GTIN-8 examples.
        "4006381333931",
        "614141123452",
        "96385074",
    ],
)
def test_published_examples_have_valid_check_digits(number):
    """Every published example validates, and its last digit is recomputed."""
    assert gs1_is_valid(number)
    assert gs1_check_digit(number[:-1]) == int(number[-1])


def test_sscc_build_matches_gs1_example():
    """Extension 1, prefix 0614141, serial 123456789 gives the GS1 example SSCC."""
    assert sscc_build(extension_digit=1, company_prefix="0614141", serial=123456789) == (
        "106141411234567897"
    )


def test_sscc_build_pads_serial_to_fill_18_digits():
    sscc = sscc_build(extension_digit=0, company_prefix="123456789012", serial=7)
    assert len(sscc) == 18
    assert sscc.startswith("0123456789012" + "0007")
    assert gs1_is_valid(sscc)


def test_sscc_build_refuses_serial_that_does_not_fit():
    with pytest.raises(ValueError, match="does not fit the 4 digits"):
        sscc_build(extension_digit=0, company_prefix="123456789012", serial=10_000)


def test_sscc_build_refuses_bad_prefix():
    with pytest.raises(ValueError, match="6 to 12 digits"):
        sscc_build(extension_digit=0, company_prefix="12AB", serial=1)


def test_gs1_128_data_starts_with_fnc1_and_ai_00():
    assert gs1_128_sscc_data("106141411234567897") == "\xf100106141411234567897"
    with pytest.raises(ValueError, match="Not a valid SSCC"):
        gs1_128_sscc_data("106141411234567890")
