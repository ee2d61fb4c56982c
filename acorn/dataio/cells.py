"""Reading one cell of an imported file: text, whole numbers, decimals,
yes/no, and the identifier formats (SKU, ASIN, GTIN).

Numbers are parsed as ``Decimal`` and their size is checked before any
arithmetic: ``Decimal("1e1000000")`` parses instantly, but turning it into
an ``int`` or rounding it costs seconds of CPU (a worker killed by one
cell), and ``str()`` of a 100,001-digit int raises.
"""

from __future__ import annotations

import math
import re
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from stdnum import ean
from stdnum.exceptions import ValidationError as StdnumValidationError

from acorn.dataio.export import FORMULA_PREFIXES

# A number cell longer than this is not a quantity or a weight anyone
# types; refusing it early bounds the parse.
NUMBER_MAX_CHARS = 40
# Decimal exponents beyond this range are refused before arithmetic;
# every quantity, weight and forecast in the product fits in 10^15.
NUMBER_MAX_ADJUSTED_EXPONENT = 15
NUMBER_MIN_ADJUSTED_EXPONENT = -15
# PostgreSQL ``integer`` range (PositiveIntegerField and IntegerField).
INTEGER_MAX = 2_147_483_647
TRUE_WORDS = frozenset({"1", "true", "yes", "y", "x"})
# SKUs: a letter or digit first (so no SKU can start a spreadsheet
# formula), then letters, digits and the punctuation catalogues use.
SKU_MAX_LENGTH = 64
SKU_PATTERN = re.compile(r"[^\W_][\w\-./ #+&()]{0,63}")
ASIN_PATTERN = re.compile(r"[A-Z0-9]{10}")

ENTER_WHOLE_NUMBER = _("Enter a whole number.")
ENTER_NUMBER = _("Enter a number.")
NUMBER_OUT_OF_RANGE = _("Enter a number between {low} and {high}.")
SKU_INVALID = _(
    "A SKU has 1 to 64 letters, digits or - _ . / # + & ( ) and spaces, "
    "and starts with a letter or digit."
)
ASIN_INVALID = _("An ASIN has 10 letters or digits.")
GTIN_INVALID = _("A GTIN has 8, 12, 13 or 14 digits and a valid GS1 check digit.")


def cell_text(value) -> str:
    """The cell as stripped text; whole floats from XLSX lose their ``.0``.

    A leading single quote that this product's exports add before a
    formula character (see ``formula_safe``) is removed, so an export
    imports back unchanged.
    """
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = str(value).strip()
    if text[:1] == "'" and text[1:2] in FORMULA_PREFIXES:
        text = text[1:]
    return text


def _number(value) -> Decimal | None:
    """A finite Decimal of bounded magnitude, or None for a blank cell."""
    if isinstance(value, bool):
        raise ValidationError(ENTER_NUMBER)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValidationError(ENTER_NUMBER)
        value = repr(value)
    text = cell_text(value)
    if text == "":
        return None
    if len(text) > NUMBER_MAX_CHARS:
        raise ValidationError(ENTER_NUMBER)
    try:
        number = Decimal(text)
    except InvalidOperation:
        raise ValidationError(ENTER_NUMBER) from None
    if not number.is_finite():
        raise ValidationError(ENTER_NUMBER)
    if number and not (
        NUMBER_MIN_ADJUSTED_EXPONENT <= number.adjusted() <= NUMBER_MAX_ADJUSTED_EXPONENT
    ):
        raise ValidationError(ENTER_NUMBER)
    return number


def cell_integer(value, default=None, *, min_value: int = -INTEGER_MAX,
                 max_value: int = INTEGER_MAX):
    """A whole number within ``[min_value, max_value]``, or ``default``."""
    try:
        number = _number(value)
    except ValidationError:
        raise ValidationError(ENTER_WHOLE_NUMBER) from None
    if number is None:
        return default
    if number != number.to_integral_value():
        raise ValidationError(ENTER_WHOLE_NUMBER)
    if not min_value <= number <= max_value:
        raise ValidationError(str(NUMBER_OUT_OF_RANGE).format(low=min_value, high=max_value))
    return int(number)


def cell_decimal(value, default=None):
    """A finite Decimal of bounded size (the model field checks digits)."""
    number = _number(value)
    return default if number is None else number


def cell_bool(value, default: bool = False) -> bool:
    text = cell_text(value).lower()
    return default if text == "" else text in TRUE_WORDS


def sku_validate(value: str) -> str:
    if not SKU_PATTERN.fullmatch(value):
        raise ValidationError(SKU_INVALID)
    return value


def asin_validate(value: str) -> str:
    """ASINs are 10 upper-case letters or digits (ISBN-10 for books)."""
    if not ASIN_PATTERN.fullmatch(value):
        raise ValidationError(ASIN_INVALID)
    return value


def gtin_validate(value: str) -> str:
    """GTIN-8, -12 (UPC), -13 (EAN) or -14 with its GS1 check digit."""
    if not (value.isascii() and value.isdigit() and len(value) in (8, 12, 13, 14)):
        raise ValidationError(GTIN_INVALID)
    try:
        ean.validate(value)
    except StdnumValidationError:
        raise ValidationError(GTIN_INVALID) from None
    return value
