"""The channels cards of the home dashboard."""

from __future__ import annotations

from django.db.models import Count, Q

from channels.models import (
    AccountStatus,
    AckStatus,
    AmazonVendorAccount,
    ChannelException,
    ExceptionStatus,
    PurchaseOrder,
    PurchaseOrderState,
)
from channels.selectors.accounts import account_secret_rotation_due_count
from channels.selectors.acknowledgements import acknowledgement_overview_cards


def overview_cards(*, tenant) -> list[dict]:
    """The channels home cards as data: a code, the numbers, the page to
    open (url name, query); acorn/overview.py gives them words and links."""
    po_counts = PurchaseOrder.objects.filter(tenant=tenant).aggregate(
        new=Count("id", filter=Q(state=PurchaseOrderState.NEW)),
        blocked=Count("id", filter=Q(ack_status=AckStatus.BLOCKED)),
    )
    open_exceptions = ChannelException.objects.filter(
        tenant=tenant, status=ExceptionStatus.OPEN
    ).count()
    reauth = AmazonVendorAccount.objects.filter(
        tenant=tenant, status=AccountStatus.REAUTH_NEEDED
    ).count()
    cards = [
        {"code": "purchase_orders_new", "value": po_counts["new"],
         "params": {"blocked": po_counts["blocked"]},
         "url_name": "channels:po_list", "query": "state=New",
         "tone": "warning" if po_counts["blocked"] else "ok"},
        {"code": "exceptions_open", "value": open_exceptions,
         "url_name": "channels:exception_list",
         "tone": "warning" if open_exceptions else "ok"},
    ]
    cards.extend(acknowledgement_overview_cards(tenant=tenant))
    rotation_due = account_secret_rotation_due_count(tenant=tenant)
    if rotation_due:
        cards.append({"code": "secrets_to_rotate", "value": rotation_due,
                      "url_name": "channels:account_list", "tone": "warning"})
    if reauth:
        cards.append({"code": "accounts_reauth_needed", "value": reauth,
                      "url_name": "channels:account_list", "tone": "warning"})
    return cards
