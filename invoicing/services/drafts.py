"""Draft invoices from shipments: one invoice per PO and shipment.

What is billed is what shipped (the ASN's quantities, never the ordered
ones), at the acknowledged net cost of the PO line, with the seller from
the tenant's legal entity and the buyer and ship-to from the PO's own
parties. Tax comes from the tenant's tax profile for the account's
marketplace and the ship-to country. The same PO and shipment never get
two live invoices: the service returns the existing one, and the
``inv_one_live_invoice_per_po_shipment`` constraint backs it.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from acorn.exceptions import ApplicationError, NotFoundError
from acorn.models import AuditAction
from acorn.services import audit_record
from acorn.tenancy import tenant_scope
from channels.selectors.invoicing import (
    INVOICEABLE_SHIPMENT_STATUSES,
    shipment_for_invoicing_get,
    shipment_items_for_invoicing,
)
from invoicing.document import Address, Party, TaxNumber
from invoicing.models import (
    DocumentKind,
    Invoice,
    InvoiceLine,
    InvoiceStatus,
    LegalEntity,
    TaxProfile,
    TaxRegistration,
)
from invoicing.services.issue import invoice_recalculate, number_series_default

SHIPMENT_NOT_FOUND = gettext_noop("No such shipment.")
SHIPMENT_NOT_SHIPPED = gettext_noop(
    "Shipment %(shipment)s has not shipped yet: only shipped quantities are invoiced."
)
PO_NOT_ON_SHIPMENT = gettext_noop("PO %(po)s is not on shipment %(shipment)s.")
NO_LEGAL_ENTITY = gettext_noop(
    "Enter your legal entity (Settings > Legal entity) before invoicing: it is the seller."
)
NO_TAX_PROFILE = gettext_noop(
    "No tax profile matches marketplace %(marketplace)s and ship-to country %(country)s: "
    "add one under Tax profiles."
)
NO_NET_COST = gettext_noop(
    "PO %(po)s line %(line)s has no net cost: it cannot be invoiced until Amazon's cost is known."
)
NO_CURRENCY = gettext_noop("PO %(po)s has no currency.")


@dataclass(frozen=True, slots=True)
class DraftResult:
    """The outcome of invoicing one PO of one shipment (bulk answers)."""

    shipment_id: int
    purchase_order_id: int
    purchase_order_number: str
    invoice: Invoice | None
    created: bool
    error: str = ""


def party_from_amazon(raw: dict | None) -> dict:
    """An Amazon PartyIdentification (PO billToParty / shipToParty) as the
    Document's party dict; the name falls back to the party id."""
    raw = raw or {}
    address = raw.get("address") or {}
    tax_info = raw.get("taxInfo") or {}
    tax_numbers = ()
    if tax_info.get("taxRegistrationNumber"):
        tax_numbers = (TaxNumber(
            scheme="eu_vat" if tax_info.get("taxRegistrationType", "VAT") == "VAT" else "other",
            number=tax_info["taxRegistrationNumber"],
            country_code=address.get("countryCode", ""),
        ),)
    party = Party(
        name=address.get("name") or raw.get("partyId", ""),
        party_id=raw.get("partyId", ""),
        address=Address(
            line1=address.get("addressLine1", ""),
            line2=address.get("addressLine2", ""),
            city=address.get("city", ""),
            postal_code=address.get("postalCode") or address.get("postalOrZipCode", ""),
            region=address.get("stateOrRegion", ""),
            country_code=address.get("countryCode", ""),
        ),
        tax_numbers=tax_numbers,
    )
    return party.as_dict()


def seller_party(*, tenant, entity: LegalEntity, profile: TaxProfile, on: datetime.date,
                 vendor_code: str = "") -> dict:
    """The seller (and remit-to) from the legal entity and the tax numbers
    valid on ``on``; a profile naming a scheme prints only that scheme."""
    registrations = TaxRegistration.objects.filter(tenant=tenant).order_by(
        "scheme", "country_code", "state", "id"
    )
    if profile.seller_tax_scheme:
        registrations = registrations.filter(scheme=profile.seller_tax_scheme)
    numbers = tuple(
        TaxNumber(scheme=r.scheme, number=r.number, country_code=r.country_code, state=r.state)
        for r in registrations
        if (r.valid_from is None or r.valid_from <= on)
        and (r.valid_until is None or r.valid_until >= on)
    )
    return Party(
        name=entity.legal_name, party_id=vendor_code,
        address=Address(
            line1=entity.address_line1, line2=entity.address_line2, city=entity.city,
            postal_code=entity.postal_code, region=entity.state_or_region,
            country_code=entity.country_code,
        ),
        tax_numbers=numbers, registration_number=entity.registration_number,
        email=entity.email,
    ).as_dict()


def tax_profile_match(*, tenant, marketplace_id: str, ship_to_country: str) -> TaxProfile:
    """The profile for the marketplace and ship-to country, else the
    marketplace's catch-all (empty country); a clear error when none."""
    candidates = TaxProfile.objects.filter(
        tenant=tenant, marketplace_id=marketplace_id, ship_to_country__in=[ship_to_country, ""]
    )
    by_country = {profile.ship_to_country: profile for profile in candidates}
    profile = by_country.get(ship_to_country) or by_country.get("")
    if profile is None:
        raise ApplicationError(
            _(NO_TAX_PROFILE) % {"marketplace": marketplace_id or "—",
                                 "country": ship_to_country or "—"},
            extra={"code": "no_tax_profile", "marketplace_id": marketplace_id,
                   "ship_to_country": ship_to_country},
        )
    return profile


def _live_invoice(*, tenant, shipment_id: int, purchase_order_id: int) -> Invoice | None:
    return Invoice.objects.filter(
        tenant=tenant, kind=DocumentKind.INVOICE, shipment_id=shipment_id,
        purchase_order_id=purchase_order_id,
    ).exclude(status=InvoiceStatus.CANCELLED).first()


def _build(*, tenant, shipment, purchase_order, items, actor) -> Invoice:
    entity = LegalEntity.objects.filter(tenant=tenant).first()
    if entity is None:
        raise ApplicationError(_(NO_LEGAL_ENTITY), extra={"code": "no_legal_entity"})
    account = purchase_order.account
    ship_to = party_from_amazon(purchase_order.ship_to)
    profile = tax_profile_match(
        tenant=tenant, marketplace_id=account.marketplace_id,
        ship_to_country=ship_to["address"]["country_code"],
    )
    currency = purchase_order.currency or next(
        (item.po_line.currency for item in items if item.po_line.currency), ""
    )
    if not currency:
        raise ApplicationError(_(NO_CURRENCY) % {"po": purchase_order.number})
    shipped_on = (shipment.shipped_at or shipment.created_at).date()
    invoice = Invoice(
        tenant=tenant, kind=DocumentKind.INVOICE,
        series=number_series_default(tenant=tenant, kind=DocumentKind.INVOICE),
        currency=currency, account=account, purchase_order=purchase_order,
        purchase_order_number=purchase_order.number, shipment=shipment,
        marketplace_id=account.marketplace_id, tax_profile=profile,
        seller=seller_party(tenant=tenant, entity=entity, profile=profile, on=shipped_on,
                            vendor_code=purchase_order.selling_party_id),
        buyer=party_from_amazon(purchase_order.bill_to), ship_to=ship_to,
        delivery_date=shipped_on,
    )
    invoice.full_clean(exclude=["tenant", "series", "account", "purchase_order", "shipment",
                                "tax_profile", "original_invoice"], validate_constraints=False)
    invoice.save()
    lines = []
    for number, item in enumerate(items, start=1):
        po_line = item.po_line
        cost = po_line.ack_net_cost if po_line.ack_net_cost is not None else po_line.net_cost
        if cost is None or cost <= 0:
            raise ApplicationError(_(NO_NET_COST) % {"po": purchase_order.number,
                                                    "line": po_line.item_sequence_number})
        product = po_line.product
        lines.append(InvoiceLine(
            tenant=tenant, invoice=invoice, line_number=number, po_line=po_line,
            item_sequence_number=po_line.item_sequence_number,
            purchase_order_number=purchase_order.number, asin=po_line.asin,
            vendor_sku=po_line.vendor_product_id or (product.sku if product else ""),
            gtin=(product.gtin if product else "") or "",
            description=(product.name if product else "")[:300],
            quantity=item.quantity, unit_of_measure=po_line.order_unit,
            unit_size=po_line.unit_size, net_unit_cost=cost,
            tax_category=profile.category, tax_rate=profile.rate,
            lot_number=item.lot_number,
            country_of_origin=item.country_of_origin or (product.country_of_origin
                                                         if product else ""),
        ))
    InvoiceLine.objects.bulk_create(lines)
    invoice_recalculate(invoice=invoice)
    audit_record(
        actor=actor, action=AuditAction.CREATE, instance=invoice,
        summary=f"Draft invoice for PO {purchase_order.number} from shipment "
                f"{shipment.shipment_identifier}",
        after={"lines": len(lines), "total": str(invoice.tax_inclusive_total)},
    )
    return invoice


@transaction.atomic
def invoice_draft_from_shipment(
    *, tenant, shipment_id: int, purchase_order_id: int, actor=None
) -> tuple[Invoice, bool]:
    """The draft invoice of one PO of one shipped shipment, and whether it
    was created now (False: the live invoice that already exists)."""
    from invoicing.services.checks import invoice_check

    with tenant_scope(tenant):
        shipment = shipment_for_invoicing_get(tenant=tenant, shipment_id=shipment_id)
        if shipment is None:
            raise NotFoundError(_(SHIPMENT_NOT_FOUND))
        if shipment.status not in INVOICEABLE_SHIPMENT_STATUSES:
            raise ApplicationError(_(SHIPMENT_NOT_SHIPPED)
                                   % {"shipment": shipment.shipment_identifier})
        existing = _live_invoice(tenant=tenant, shipment_id=shipment_id,
                                 purchase_order_id=purchase_order_id)
        if existing is not None:
            return existing, False
        items = [item for item in shipment_items_for_invoicing(tenant=tenant,
                                                               shipment_id=shipment_id)
                 if item.po_line.purchase_order_id == purchase_order_id]
        if not items:
            raise ApplicationError(_(PO_NOT_ON_SHIPMENT) % {
                "po": purchase_order_id, "shipment": shipment.shipment_identifier})
        try:
            with transaction.atomic():
                invoice = _build(tenant=tenant, shipment=shipment,
                                 purchase_order=items[0].po_line.purchase_order, items=items,
                                 actor=actor)
        except IntegrityError:
            # A concurrent request created it first: answer with that one.
            existing = _live_invoice(tenant=tenant, shipment_id=shipment_id,
                                     purchase_order_id=purchase_order_id)
            if existing is None:
                raise
            return existing, False
        invoice_check(tenant=tenant, invoice_id=invoice.pk)
        invoice.refresh_from_db()
    return invoice, True


def invoices_from_shipment(*, tenant, shipment_id: int, actor=None) -> list[DraftResult]:
    """One draft per PO on the shipment (a multi-PO shipment gives several)."""
    with tenant_scope(tenant):
        po_ids = []
        for item in shipment_items_for_invoicing(tenant=tenant, shipment_id=shipment_id):
            if item.po_line.purchase_order_id not in po_ids:
                po_ids.append(item.po_line.purchase_order_id)
        if not po_ids and shipment_for_invoicing_get(tenant=tenant,
                                                     shipment_id=shipment_id) is None:
            raise NotFoundError(_(SHIPMENT_NOT_FOUND))
    return invoices_draft_bulk(tenant=tenant, pairs=[(shipment_id, po) for po in po_ids],
                               actor=actor)


def invoices_draft_bulk(*, tenant, pairs: list[tuple[int, int]], actor=None) -> list[DraftResult]:
    """Drafts for many (shipment id, PO id) pairs, each in its own
    transaction: one PO's problem (no tax profile, no cost) is reported
    on its row and does not stop the others."""
    results = []
    for shipment_id, purchase_order_id in pairs:
        try:
            invoice, created = invoice_draft_from_shipment(
                tenant=tenant, shipment_id=shipment_id, purchase_order_id=purchase_order_id,
                actor=actor,
            )
        except ApplicationError as exc:
            results.append(DraftResult(shipment_id, purchase_order_id, "", None, False,
                                       exc.message))
            continue
        results.append(DraftResult(shipment_id, purchase_order_id,
                                   invoice.purchase_order_number, invoice, created))
    return results
