"""``{% load channel_events %}``: PO events as words in the reader's language.

An event stores a kind (a code) and its facts (``detail``, a dict of
plain values); both are turned into text only when shown, so a page in
Chinese reads Chinese whatever language the worker ran in.
"""

from __future__ import annotations

from django import template
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

register = template.Library()

# Every key a service writes into PurchaseOrderEvent.detail, with its label.
DETAIL_LABELS = {
    "line": gettext_lazy("Line"),
    "asin": "ASIN",
    "vendor_product_id": gettext_lazy("Vendor SKU"),
    "cancelled_quantity": gettext_lazy("Cancelled quantity"),
    "state": gettext_lazy("State"),
    "lines": gettext_lazy("Lines"),
    "acknowledged": gettext_lazy("Already acknowledged"),
    "from": gettext_lazy("From"),
    "to": gettext_lazy("To"),
    "shipped": gettext_lazy("Shipped"),
    "received": gettext_lazy("Received"),
    "shortage": gettext_lazy("Short"),
    "shipment": gettext_lazy("Shipment"),
    "deadline": gettext_lazy("Deadline"),
    "version": gettext_lazy("Version"),
    "transaction_id": gettext_lazy("Transaction"),
    "errors": gettext_lazy("Amazon's errors"),
    "hold_failed": gettext_lazy("Stock hold refused"),
    "request_id": gettext_lazy("Request id"),
    "run": gettext_lazy("Sync run"),
    "before": gettext_lazy("Before"),
    "after": gettext_lazy("After"),
}
# Past this a value is cut: the event list must stay a list, not a dump.
VALUE_MAX_CHARS = 300


def _value_text(value) -> str:
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    if value is None or value == "":
        return "—"
    if isinstance(value, dict):
        if "message" in value:  # one of Amazon's errors
            code = value.get("code", "")
            return f"{code}: {value['message']}" if code else str(value["message"])
        return "; ".join(f"{_label(k)} {_value_text(v)}" for k, v in value.items())
    if isinstance(value, list | tuple):
        return "; ".join(_value_text(item) for item in value) or "—"
    return str(value)


def _label(key: str) -> str:
    label = DETAIL_LABELS.get(key)
    return str(label) if label is not None else key.replace("_", " ").capitalize()


@register.filter
def event_details(detail) -> list[tuple[str, str]]:
    """``[(label, text), ...]`` for an event's ``detail`` dict."""
    if not isinstance(detail, dict):
        return [("", _value_text(detail)[:VALUE_MAX_CHARS])] if detail else []
    return [(_label(key), _value_text(value)[:VALUE_MAX_CHARS]) for key, value in detail.items()]
