"""The hold placement as a PL/pgSQL function: ``inventory_hold_place``.

The placement is one statement of seven CTEs over four tables with RLS
policies. Planning it costs about twice as much as running it, so its plan
must be reused. A named ``PREPARE`` does that but lives in one server
session, and behind PgBouncer in transaction pooling mode the next
transaction may run on another server connection ("prepared statement
does not exist"). PL/pgSQL caches the plans of a function's statements in
whichever server session runs it, so a call plans once per server
connection, through any pooler, and the client sends one plain
parameterised ``SELECT``. The function runs as the caller (SECURITY
INVOKER), so row-level security applies to every table it touches.

Steps, in one snapshot (see inventory/services/hold_placement.py):
1. ``hold``: insert the hold; ON CONFLICT on the idempotency key inserts
   nothing (a concurrent placement with the same key waits first).
2. ``promised``: one conditional UPDATE per product's level row
   (``on_hand >= held + reserved + safety + qty``), joined with ``hold`` so
   a replay touches no level; PostgreSQL re-checks the condition on the
   newest row version after a lock wait, so free units are never taken
   twice. The CHECK ``on_hand >= held + reserved`` is the backstop.
3. ``lines`` and ``marked``: the hold lines (request order) and the ATP
   outbox upsert, only when every product was promised.
Returns the new hold's id (NULL: the key was used before) and the products
not promised with their SKUs (NULL SKU: no such product of the tenant).
"""

from django.db import migrations

FORWARD = """
CREATE OR REPLACE FUNCTION inventory_hold_place(
    p_now timestamptz, p_tenant_id bigint, p_kind text, p_status text, p_channel text,
    p_source_type text, p_source_ref text, p_idempotency_key text, p_note text,
    p_expires_at timestamptz, p_actor_label text, p_product_ids bigint[],
    p_quantities integer[], p_line_refs text[], p_respect_safety_stock boolean,
    p_reserve boolean
) RETURNS TABLE (placed_hold_id bigint, refused_product_ids bigint[], refused_skus text[])
LANGUAGE plpgsql VOLATILE SECURITY INVOKER
AS $function$
BEGIN
    RETURN QUERY
    WITH hold AS (
        INSERT INTO inventory_hold
            (created_at, updated_at, tenant_id, kind, status, channel, source_type,
             source_ref, idempotency_key, note, expires_at, actor_label)
        VALUES
            (p_now, p_now, p_tenant_id, p_kind, p_status, p_channel, p_source_type,
             p_source_ref, p_idempotency_key, p_note, p_expires_at, p_actor_label)
        ON CONFLICT ON CONSTRAINT inv_hold_idempotent DO NOTHING
        RETURNING id
    ),
    line AS (
        SELECT *
        FROM unnest(p_product_ids, p_quantities, p_line_refs)
            WITH ORDINALITY AS line (product_id, quantity, line_ref, line_no)
    ),
    wanted AS (
        SELECT line.product_id, sum(line.quantity) AS quantity FROM line GROUP BY line.product_id
    ),
    promised AS (
        UPDATE inventory_stocklevel AS level
        SET held = level.held + CASE WHEN p_reserve THEN 0 ELSE wanted.quantity END,
            reserved = level.reserved + CASE WHEN p_reserve THEN wanted.quantity ELSE 0 END,
            updated_at = p_now
        FROM hold, wanted
        JOIN inventory_product AS product
            ON product.id = wanted.product_id AND product.tenant_id = p_tenant_id
        WHERE level.tenant_id = p_tenant_id
          AND level.product_id = wanted.product_id
          AND level.on_hand >= level.held + level.reserved + wanted.quantity
              + CASE WHEN p_respect_safety_stock THEN product.safety_stock ELSE 0 END
        RETURNING level.product_id
    ),
    complete AS (
        SELECT count(*) = (SELECT count(*) FROM wanted) AS ok FROM promised
    ),
    lines AS (
        INSERT INTO inventory_holdline
            (created_at, updated_at, tenant_id, hold_id, product_id, line_ref, quantity,
             open_quantity, consumed_quantity, released_quantity)
        SELECT p_now, p_now, p_tenant_id, hold.id, line.product_id, line.line_ref,
               line.quantity, line.quantity, 0, 0
        FROM hold, line, complete
        WHERE complete.ok
        ORDER BY line.line_no
    ),
    marked AS (
        INSERT INTO inventory_atpchange
            (tenant_id, product_id, version, changed_at, claim_token, created_at, updated_at)
        SELECT p_tenant_id, promised.product_id, 1, p_now, '', p_now, p_now
        FROM promised, complete
        WHERE complete.ok
        ORDER BY promised.product_id
        ON CONFLICT ON CONSTRAINT inv_atpchange_unique DO UPDATE
        SET version = inventory_atpchange.version + 1,
            changed_at = EXCLUDED.changed_at,
            updated_at = EXCLUDED.updated_at
    )
    SELECT (SELECT hold.id FROM hold),
           array_agg(wanted.product_id ORDER BY wanted.product_id),
           array_agg(product.sku::text ORDER BY wanted.product_id)
    FROM wanted
    LEFT JOIN inventory_product AS product
        ON product.id = wanted.product_id AND product.tenant_id = p_tenant_id
    WHERE wanted.product_id NOT IN (SELECT promised.product_id FROM promised);
END;
$function$;
"""

BACKWARD = """
DROP FUNCTION IF EXISTS inventory_hold_place(
    timestamptz, bigint, text, text, text, text, text, text, text, timestamptz, text,
    bigint[], integer[], text[], boolean, boolean
);
"""


class Migration(migrations.Migration):
    dependencies = [("inventory", "0004_movement_incremental_index")]

    operations = [migrations.RunSQL(FORWARD, BACKWARD)]
