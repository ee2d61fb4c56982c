"""Hold requests as the services receive them: lines read once.

Callers name a line's product by pk (``product_id``), SKU (``sku``) or
instance (``product``); ``hold_line_parse`` reads whichever is given, once,
into ``HoldLineRequest.product``, so the services below never look at the
dict again. ``product_ids_resolve`` turns the refs into product ids.
"""

from __future__ import annotations

from dataclasses import dataclass

from acorn.exceptions import ApplicationError
from inventory.models import Product
from inventory.services.stock import UNKNOWN_PRODUCT, products_resolve

NO_LINES = "A hold needs at least one line."
QUANTITY_NOT_POSITIVE = "Hold quantities must be positive."
QUANTITY_MISSING = "Every hold line needs a quantity."

ProductRef = int | str | Product


@dataclass(frozen=True, slots=True)
class HoldLineRequest:
    """One requested line: ``quantity`` None means every open unit (releases)."""

    product: ProductRef
    quantity: int | None
    line_ref: str = ""
    warehouse: str | None = None
    lot: str | None = None


def hold_line_parse(line: dict) -> HoldLineRequest:
    """The request of one line dict (keys: product | product_id | sku,
    quantity, line_ref, warehouse, lot)."""
    product = line.get("product", line.get("product_id", line.get("sku")))
    quantity = line.get("quantity")
    return HoldLineRequest(
        product=product,
        quantity=None if quantity is None else int(quantity),
        line_ref=str(line.get("line_ref", "")),
        warehouse=line.get("warehouse") or None,
        lot=line.get("lot") or None,
    )


def hold_placement_lines_parse(lines) -> list[HoldLineRequest]:
    """The lines of a placement: at least one, each with a positive quantity."""
    if not lines:
        raise ApplicationError(NO_LINES)
    requests = []
    for line in lines:
        request = hold_line_parse(line)
        if request.quantity is None:
            raise ApplicationError(QUANTITY_MISSING, {"line": str(request.product)})
        if request.quantity <= 0:
            raise ApplicationError(QUANTITY_NOT_POSITIVE, {"line": str(request.product)})
        requests.append(request)
    return requests


def product_ids_resolve(*, tenant, refs) -> list[int]:
    """The product id of each ref: no query for ids and instances, one
    ``values_list`` query for SKUs.

    An id of no product of the tenant is not looked up here: no level row
    is promised for it, and the placement then asks ``products_resolve``
    for the error (the same error as every other service).
    """
    skus = {ref for ref in refs if isinstance(ref, str)}
    by_sku = (
        dict(Product.objects.filter(tenant=tenant, sku__in=skus).values_list("sku", "pk"))
        if skus else {}
    )
    ids = []
    for ref in refs:
        if isinstance(ref, Product) and ref.tenant_id == tenant.pk:
            ids.append(ref.pk)
        elif isinstance(ref, int) and not isinstance(ref, bool):
            ids.append(ref)
        elif isinstance(ref, str) and ref in by_sku:
            ids.append(by_sku[ref])
        else:
            products_resolve(tenant=tenant, refs=refs)  # raises UNKNOWN_PRODUCT
            raise ApplicationError(UNKNOWN_PRODUCT.format(ref=ref), {"product": str(ref)})
    return ids
