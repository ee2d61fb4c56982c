"""The channels cards of the home dashboard."""

from __future__ import annotations

from django.db.models import Count, Q
from django.urls import reverse
from django.utils.translation import gettext as _

from channels.models import (
    AccountStatus,
    AckStatus,
    AmazonVendorAccount,
    ChannelException,
    ExceptionStatus,
    PurchaseOrder,
    PurchaseOrderState,
)


def overview_cards(*, tenant) -> list[dict]:
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
    po_url = reverse("channels:po_list", kwargs={"tenant_slug": tenant.slug})
    exceptions_url = reverse("channels:exception_list", kwargs={"tenant_slug": tenant.slug})
    cards = [
        {"label": _("New purchase orders"), "value": po_counts["new"],
         "hint": _("%(blocked)s blocked by unmapped lines") % {"blocked": po_counts["blocked"]},
         "url": f"{po_url}?state=New", "tone": "warning" if po_counts["blocked"] else "ok"},
        {"label": _("Open exceptions"), "value": open_exceptions,
         "hint": _("Amazon channel work queue"), "url": exceptions_url,
         "tone": "warning" if open_exceptions else "ok"},
    ]
    # Second half: acknowledgements waiting, deadline and submission alerts.
    from channels.selectors.acknowledgements import acknowledgement_overview_cards

    cards.extend(acknowledgement_overview_cards(tenant=tenant))
    from channels.selectors.accounts import account_secret_rotation_due_count

    rotation_due = account_secret_rotation_due_count(tenant=tenant)
    if rotation_due:
        cards.append({
            "label": _("LWA client secrets to rotate"), "value": rotation_due,
            "hint": _("Amazon requires a new client secret every 180 days"),
            "url": reverse("channels:account_list", kwargs={"tenant_slug": tenant.slug}),
            "tone": "warning",
        })
    if reauth:
        cards.append({
            "label": _("Accounts needing re-authorization"), "value": reauth,
            "hint": _("Syncs are paused until new credentials are saved"),
            "url": reverse("channels:account_list", kwargs={"tenant_slug": tenant.slug}),
            "tone": "warning",
        })
    return cards
