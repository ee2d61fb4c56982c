"""The ATP change outbox: what the channels app must push next.

Inventory never imports channels (DESIGN.md, floors). Every write that can
change available-to-promise calls ``atp_change_mark``; the channels app
drains with ``atp_change_claim`` -> push -> ``atp_change_ack``.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import timedelta

from django.db import connection, transaction
from django.utils import timezone

from inventory.models import AtpChange, Product

# A claim not acknowledged within this lease (a crashed worker) is handed
# out again; a push of a few hundred products takes well under a minute.
CLAIM_LEASE = timedelta(minutes=5)
CLAIM_BATCH = 500

# The upsert: a new row per product, or the existing row's version bumped.
# ``{rows}`` is a VALUES list or a SELECT yielding the seven columns, in
# product id order. The hold placement function (migration
# inventory.0003_hold_place_function) runs the same upsert as one of its
# steps, so a hold costs one round trip.
ATP_MARK_UPSERT = """
INSERT INTO inventory_atpchange
    (tenant_id, product_id, version, changed_at, claim_token, created_at, updated_at)
{rows}
ON CONFLICT ON CONSTRAINT inv_atpchange_unique DO UPDATE
SET version = inventory_atpchange.version + 1,
    changed_at = EXCLUDED.changed_at,
    updated_at = EXCLUDED.updated_at
"""


def atp_change_mark(*, tenant, product_ids) -> None:
    """Record that these products' ATP changed (one upsert, coalesced).

    Rows are written in product id order, the same order as the stock
    level locks, so concurrent marks never deadlock.
    """
    ids = sorted(set(product_ids))
    if not ids:
        return
    now = timezone.now()
    values = ", ".join(["(%s, %s, 1, %s, '', %s, %s)"] * len(ids))
    params: list = []
    for product_id in ids:
        params.extend([tenant.pk, product_id, now, now, now])
    with connection.cursor() as cursor:
        # Tenant-filtered by construction: every row carries tenant.pk.
        cursor.execute(ATP_MARK_UPSERT.format(rows=f"VALUES {values}"), params)


def atp_change_mark_all(*, tenant) -> None:
    """Mark every product of the tenant (e.g. a channel rule changed)."""

    ids = list(Product.objects.filter(tenant=tenant).values_list("id", flat=True))
    for start in range(0, len(ids), 1000):
        atp_change_mark(tenant=tenant, product_ids=ids[start : start + 1000])


@dataclass(frozen=True)
class AtpClaim:
    product_id: int
    version: int
    claim_token: str


@transaction.atomic
def atp_change_claim(*, tenant, limit: int = CLAIM_BATCH) -> list[AtpClaim]:
    """Claim up to ``limit`` changed products, oldest change first.

    Rows locked by another drainer are skipped, so several workers can
    drain one tenant. Push the ATP of the claimed products, then call
    ``atp_change_ack`` with the claims.
    """
    now = timezone.now()
    token = uuid.uuid4().hex
    queryset = (
        AtpChange.objects.filter(tenant=tenant)
        .exclude(claimed_at__gt=now - CLAIM_LEASE)
        .select_for_update(skip_locked=True)
    )
    rows = list(
        queryset.order_by("changed_at", "id").values_list("id", "product_id", "version")[:limit]
    )
    if not rows:
        return []
    AtpChange.objects.filter(tenant=tenant, id__in=[row[0] for row in rows]).update(
        claimed_at=now, claim_token=token, updated_at=now
    )
    return [AtpClaim(product_id=row[1], version=row[2], claim_token=token) for row in rows]


@transaction.atomic
def atp_change_ack(*, tenant, claims: list[AtpClaim]) -> int:
    """Drop the rows that were pushed; keep those changed since the claim.

    A product whose version moved on after the claim is released for the
    next drain (its ATP changed again while it was being pushed).
    """
    done = 0
    by_version: dict[int, list[int]] = {}
    for claim in claims:
        by_version.setdefault(claim.version, []).append(claim.product_id)
    for version, product_ids in sorted(by_version.items()):
        deleted, _ = AtpChange.objects.filter(
            tenant=tenant, product_id__in=product_ids, version=version
        ).delete()
        done += deleted
    if claims:
        AtpChange.objects.filter(
            tenant=tenant, claim_token__in={claim.claim_token for claim in claims}
        ).update(claimed_at=None, claim_token="")
    return done
