"""Reading the values remittances carry: amounts as Vendor Central and
e-mails print them, dates in the formats they use, text in any encoding."""

from __future__ import annotations

import codecs
import datetime as dt
import functools
import re
from decimal import Decimal, InvalidOperation

# Symbols seen in Vendor Central exports and remittance e-mails. "$" alone is
# ambiguous (USD, CAD, AUD, MXN): it yields no currency and the payment's
# currency (or the account's) decides.
_SYMBOLS = {"€": "EUR", "£": "GBP", "¥": "JPY", "￥": "JPY", "₹": "INR", "zł": "PLN",
            "kr": "SEK", "R$": "BRL", "C$": "CAD", "A$": "AUD", "US$": "USD", "MX$": "MXN"}
_CODE_RE = re.compile(r"\b([A-Z]{3})\b")
_NUMBER_RE = re.compile(r"^[0-9][0-9.,' \u00a0\u202f]*$")
MAX_AMOUNT = Decimal("99999999999999")  # fits Decimal(18, 4)


class ValueError_(ValueError):
    """A cell that is not what its column needs; ``code`` names the rule."""

    def __init__(self, code: str):
        super().__init__(code)
        self.code = code


_PLAIN_AMOUNT_RE = re.compile(r"^-?\d{1,14}(?:\.\d{1,4})?$")


@functools.lru_cache(maxsize=65536)
def money_parse(text: str) -> tuple[Decimal, str | None]:
    """"$1,234.56" -> (1234.56, None); "1.234,56 €" -> (1234.56, "EUR");
    "(12.00)" and "12.00-" and "-12.00" -> -12.00; "EUR 5" -> (5, "EUR")."""
    raw = (text or "").strip()
    if _PLAIN_AMOUNT_RE.match(raw):  # the common case, no symbols or groups
        return Decimal(raw), None
    if not raw:
        raise ValueError_("required")
    if len(raw) > 40:
        raise ValueError_("too_long")
    negative = False
    if raw.startswith("(") and raw.endswith(")"):
        negative, raw = True, raw[1:-1].strip()
    currency = None
    for symbol in sorted(_SYMBOLS, key=len, reverse=True):
        if symbol in raw:
            currency = _SYMBOLS[symbol]
            raw = raw.replace(symbol, " ")
            break
    code = _CODE_RE.search(raw.upper())
    if code:
        currency = currency or code.group(1)
        raw = re.sub(r"[A-Za-z]{3}", " ", raw, count=1)
    raw = raw.replace("$", " ").strip()
    if raw.startswith("-"):
        negative, raw = not negative, raw[1:].strip()
    elif raw.endswith("-"):
        negative, raw = not negative, raw[:-1].strip()
    elif raw.startswith("+"):
        raw = raw[1:].strip()
    if raw.startswith("(") and raw.endswith(")"):
        negative, raw = not negative, raw[1:-1].strip()
    if not raw or not _NUMBER_RE.match(raw):
        raise ValueError_("not_a_number")
    raw = re.sub(r"[ '\u00a0\u202f]", "", raw)
    raw = _decimal_separator_normalise(raw)
    try:
        value = Decimal(raw)
    except InvalidOperation as exc:
        raise ValueError_("not_a_number") from exc
    if abs(value) > MAX_AMOUNT:
        raise ValueError_("out_of_range")
    return (-value if negative else value), currency


def _decimal_separator_normalise(raw: str) -> str:
    """The last of "." and "," is the decimal separator when both appear; a
    lone comma followed by exactly three digits groups thousands (amounts
    in remittances carry 0 or 2 decimals); repeated separators group."""
    if "." in raw and "," in raw:
        decimal_sep = "." if raw.rfind(".") > raw.rfind(",") else ","
        thousands = "," if decimal_sep == "." else "."
        integer, _, fraction = raw.rpartition(decimal_sep)
        groups = integer.split(thousands)
        if decimal_sep in integer or not all(len(g) == 3 for g in groups[1:]) \
                or not 1 <= len(groups[0]) <= 3:
            raise ValueError_("not_a_number")
        return "".join(groups) + "." + fraction
    for sep in (",", "."):
        if sep in raw:
            parts = raw.split(sep)
            # "1,234" groups thousands; "1.234" stays 1.234 (and then fails
            # the currency's precision loudly rather than becoming 1234).
            if len(parts) > 2 or (sep == "," and len(parts[-1]) == 3):
                if not all(len(p) == 3 for p in parts[1:]) or not 1 <= len(parts[0]) <= 3:
                    raise ValueError_("not_a_number")
                return raw.replace(sep, "")
            return raw.replace(sep, ".")
    return raw


_MONTHS = {m: i for i, m in enumerate(
    ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"], 1)}
_DE_MONTHS = {"MRZ": 3, "MAI": 5, "OKT": 10, "DEZ": 12}
_ISO_RE = re.compile(r"^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})(?:[ T].*)?$")
_COMPACT_RE = re.compile(r"^(\d{4})(\d{2})(\d{2})$")
_NUMERIC_RE = re.compile(r"^(\d{1,2})[-/.](\d{1,2})[-/.](\d{2}|\d{4})(?:[ T].*)?$")
_NAMED_RE = re.compile(r"^(\d{1,2})[- .]([A-Za-z]{3})[A-Za-z]*\.?[- .,]*(\d{2}|\d{4})$")
_NAMED_US_RE = re.compile(r"^([A-Za-z]{3})[A-Za-z]*\.? (\d{1,2}),? (\d{4})$")


@functools.lru_cache(maxsize=16384)
def date_parse(text: str, *, day_first: bool = False) -> dt.date:
    """Dates as Vendor Central, e-mails and EDI print them: 2026-01-05,
    20260105, 01/05/2026 (US, or day first for EU marketplaces), 05.01.2026,
    05-Jan-2026, Jan 5, 2026. ``day_first`` settles the d/m ambiguity."""
    raw = (text or "").strip()
    if not raw:
        raise ValueError_("required")
    if len(raw) > 40:
        raise ValueError_("too_long")
    try:
        if m := _ISO_RE.match(raw) or _COMPACT_RE.match(raw):
            return dt.date(int(m[1]), int(m[2]), int(m[3]))
        if m := _NUMERIC_RE.match(raw):
            a, b, year = int(m[1]), int(m[2]), int(m[3])
            year = year + 2000 if year < 100 else year
            dotted = "." in raw
            if dotted or day_first or a > 12:
                return dt.date(year, b, a)
            return dt.date(year, a, b)
        if m := _NAMED_RE.match(raw):
            return dt.date(_year(m[3]), _month(m[2]), int(m[1]))
        if m := _NAMED_US_RE.match(raw):
            return dt.date(int(m[3]), _month(m[1]), int(m[2]))
    except ValueError as exc:
        raise ValueError_("not_a_date") from exc
    raise ValueError_("not_a_date")


def _year(text: str) -> int:
    year = int(text)
    return year + 2000 if year < 100 else year


def _month(text: str) -> int:
    key = text[:3].upper()
    month = _MONTHS.get(key) or _DE_MONTHS.get(key)
    if month is None:
        raise ValueError("month")
    return month


def day_first_infer(values: list[str]) -> bool:
    """Whole-column evidence for d/m/y: a first part above 12 anywhere."""
    for value in values:
        m = _NUMERIC_RE.match((value or "").strip())
        if m and "." not in value:
            if int(m[1]) > 12:
                return True
            if int(m[2]) > 12:
                return False
    return False


def text_decode(data: bytes) -> str:
    """UTF-8 (with or without BOM), UTF-16 (by its BOM), else cp1252, which
    is what Excel on Windows writes for "CSV" in Western locales."""
    if data.startswith(codecs.BOM_UTF8):
        return data[len(codecs.BOM_UTF8):].decode("utf-8")
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return data.decode("utf-16")
    if len(data) >= 4 and data[1] == 0 and data[3] == 0 and data[0] != 0:
        return data.decode("utf-16-le")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")


def cell_clean(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        # openpyxl yields floats for numeric cells; go through repr so 0.1
        # stays 0.1 (Decimal(str(x))), and never keep the float itself.
        value = repr(value)
    return str(value).strip()
