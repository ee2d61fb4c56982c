"""GS1 identifiers for cartons and pallets: SSCC-18 and its GS1-128 text.

Pure functions, no database. An SSCC is 18 digits: one extension digit
(chosen by the company, 0-9), the GS1 company prefix (6-12 digits), a
serial reference filling the rest, and a mod-10 check digit, as defined in
the GS1 General Specifications §3.3.1 (AI 00) and §7.9.1 (check digit).
"""

from __future__ import annotations

SSCC_LENGTH = 18
# Application Identifier (00) introduces an SSCC in a GS1-128 barcode.
AI_SSCC = "00"
# FNC1 in reportlab's Code128 input: the leading FNC1 makes it GS1-128.
FNC1 = "\xf1"

INVALID_PREFIX = "The GS1 company prefix must be 6 to 12 digits."
INVALID_EXTENSION = "The SSCC extension digit must be 0-9."
SERIAL_EXHAUSTED = "Serial {serial} does not fit the {digits} digits left by the prefix."


def gs1_check_digit(digits: str) -> int:
    """The GS1 mod-10 check digit of ``digits`` (the data without it).

    From the right, digits are weighted 3, 1, 3, 1...; the check digit
    brings the weighted sum up to a multiple of ten. The same rule serves
    GTIN-8/12/13/14 and SSCC.
    """
    if not digits.isdigit():
        raise ValueError("GS1 data must be digits only.")
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(digits)))
    return (10 - total % 10) % 10


def gs1_is_valid(number: str) -> bool:
    return number.isdigit() and len(number) > 1 and gs1_check_digit(number[:-1]) == int(
        number[-1]
    )


def sscc_build(*, extension_digit: int, company_prefix: str, serial: int) -> str:
    """The 18-digit SSCC for ``serial`` under ``company_prefix``."""
    if not (company_prefix.isdigit() and 6 <= len(company_prefix) <= 12):
        raise ValueError(INVALID_PREFIX)
    if not 0 <= int(extension_digit) <= 9:
        raise ValueError(INVALID_EXTENSION)
    serial_digits = SSCC_LENGTH - 2 - len(company_prefix)
    if serial < 0 or serial >= 10**serial_digits:
        raise ValueError(SERIAL_EXHAUSTED.format(serial=serial, digits=serial_digits))
    data = f"{int(extension_digit)}{company_prefix}{serial:0{serial_digits}d}"
    return data + str(gs1_check_digit(data))


def sscc_human_readable(sscc: str) -> str:
    """``(00) 1 0614141 123456789 7``-style text under the barcode."""
    return f"({AI_SSCC}) {sscc}"


def gs1_128_sscc_data(sscc: str) -> str:
    """Code 128 input for reportlab: FNC1, AI 00, the SSCC (GS1-128)."""
    if len(sscc) != SSCC_LENGTH or not gs1_is_valid(sscc):
        raise ValueError(f"Not a valid SSCC: {sscc!r}")
    return FNC1 + AI_SSCC + sscc
