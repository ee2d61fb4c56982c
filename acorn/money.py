"""Money: Decimal only, with the precision of each currency."""

from decimal import ROUND_HALF_UP, Decimal

MONEY_MAX_DIGITS = 18
MONEY_DECIMAL_PLACES = 4
ZERO = Decimal("0")

# ISO 4217 minor units where they differ from 2.
_MINOR_UNITS = {"JPY": 0, "KRW": 0, "CLP": 0, "VND": 0, "HUF": 2, "KWD": 3, "BHD": 3, "TND": 3}


def currency_exponent(currency: str) -> int:
    return _MINOR_UNITS.get(currency.upper(), 2)


def quantize_money(amount: Decimal, currency: str) -> Decimal:
    """Round to the currency's precision, half up (commercial rounding)."""
    if not isinstance(amount, Decimal):
        raise TypeError(f"Money must be Decimal, not {type(amount).__name__}.")
    exponent = Decimal(1).scaleb(-currency_exponent(currency))
    return amount.quantize(exponent, rounding=ROUND_HALF_UP)
