"""Template filters for money: ``{% load acorn_format %}``."""

from decimal import Decimal, InvalidOperation

from django import template

from acorn.money import quantize_money

register = template.Library()


@register.filter
def money(amount, currency: str = "") -> str:
    """``{{ po.total_cost|money:po.currency }}`` -> "28,538.22 USD".

    Stored amounts keep 4 decimal places; people read the currency's own
    precision. Empty stays empty.
    """
    if amount is None or amount == "":
        return ""
    try:
        value = amount if isinstance(amount, Decimal) else Decimal(str(amount))
    except (InvalidOperation, ValueError):
        return str(amount)
    text = f"{quantize_money(value, currency or 'USD'):,}"
    return f"{text} {currency}".strip()
