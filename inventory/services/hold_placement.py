"""The hold placement's write: one call of ``inventory_hold_place``.

The hot path: every accepted Amazon PO line is a placement, and a hold
costs BEGIN, the RLS ``set_config``, this one statement and COMMIT. The
statement itself is the PL/pgSQL function of migration
``inventory.0003_hold_place_function`` (its steps are described there).
PL/pgSQL keeps the plan of the function's statement per server session,
so the seven-CTE statement is planned once per server connection while
the client sends one ordinary parameterised ``SELECT``: no named
server-side ``PREPARE``, nothing a transaction-pooling PgBouncer could
route to a server connection that lacks it.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.db import connection

from inventory.models import Hold, HoldKind
from inventory.services.hold_requests import HoldLineRequest

# The function's parameters, in order, with the types ``PLACE_SQL`` casts
# them to (client-side binding sends literals; the casts pick the function).
PLACE_PARAMS = (
    ("now", "timestamptz"), ("tenant_id", "bigint"), ("kind", "text"), ("status", "text"),
    ("channel", "text"), ("source_type", "text"), ("source_ref", "text"),
    ("idempotency_key", "text"), ("note", "text"), ("expires_at", "timestamptz"),
    ("actor_label", "text"), ("product_ids", "bigint[]"), ("quantities", "integer[]"),
    ("line_refs", "text[]"), ("respect_safety_stock", "boolean"), ("reserve", "boolean"),
)
PLACE_SQL = (
    "SELECT * FROM inventory_hold_place(%s::timestamptz, %s::bigint, %s::text, %s::text,"
    " %s::text, %s::text, %s::text, %s::text, %s::text, %s::timestamptz, %s::text,"
    " %s::bigint[], %s::integer[], %s::text[], %s::boolean, %s::boolean)"
)
# The hold's own fields the call writes (besides tenant, status, kind).
_HOLD_FIELDS = (
    "channel", "source_type", "source_ref", "idempotency_key", "note", "expires_at",
    "actor_label",
)


@dataclass(frozen=True, slots=True)
class Placement:
    """The call's answer: the hold written (None: its key was used
    before) and the (product id, SKU) pairs not promised (SKU None: no
    product of the tenant has that id)."""

    hold: Hold | None
    refused: list[tuple[int, str | None]]


def hold_placement_write(
    *, tenant, hold: Hold, requests: list[HoldLineRequest], product_ids: list[int],
    respect_safety_stock: bool, now: datetime.datetime,
) -> Placement:
    """Insert ``hold`` (unsaved, validated) with its lines and promise the
    units, all in one statement; nothing is read back."""
    values = {
        **{name: getattr(hold, name) for name in _HOLD_FIELDS},
        "kind": str(hold.kind),
        "status": str(hold.status),
        "tenant_id": tenant.pk,
        "now": now,
        "product_ids": product_ids,
        "quantities": [request.quantity for request in requests],
        "line_refs": [request.line_ref for request in requests],
        "respect_safety_stock": respect_safety_stock,
        "reserve": hold.kind == HoldKind.RESERVATION,
    }
    with connection.cursor() as cursor:
        cursor.execute(PLACE_SQL, [values[name] for name, _ in PLACE_PARAMS])
        hold_id, refused_ids, refused_skus = cursor.fetchone()
    if hold_id is None:
        return Placement(hold=None, refused=[])
    # The row as written, built the way the ORM builds a loaded row.
    row = {"id": hold_id, "created_at": now, "updated_at": now, "tenant_id": tenant.pk,
           "kind": values["kind"], "status": values["status"],
           **{name: values[name] for name in _HOLD_FIELDS}}
    names = [field.attname for field in Hold._meta.concrete_fields]
    placed = Hold.from_db(connection.alias, names, [row[name] for name in names])
    return Placement(hold=placed, refused=list(zip(refused_ids or [], refused_skus or [],
                                                   strict=True)))
