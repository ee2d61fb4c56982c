"""Secrets battery (issue 9): canary LWA credentials, and the access tokens
the sandbox issues for them, never appear in logs, pages (error pages
included), API answers, Celery task messages or the database outside the
encrypted columns.

Real parts: the sandbox over HTTP, a private Redis as the Celery broker
(the messages are read back from it), PostgreSQL scanned column by column
through information_schema with each tenant's row-level security setting.
"""

from __future__ import annotations

import base64
import json
import logging
import uuid

import psycopg
import pytest
from django.db import connection
from django.urls import reverse
from rest_framework.test import APIClient

from acorn.tenancy import tenant_scope
from tests.api_world import seed_api_world
from tests.outages import RedisServer, app_on_redis, broker_messages
from vendor_api.sandbox.testing import running_sandbox

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

CANARY = f"CANARY{uuid.uuid4().hex[:12]}"


@pytest.fixture
def redis_server():
    server = RedisServer()
    server.start()
    try:
        yield server
    finally:
        server.close()


def _leaks(text: str, secrets: list[str]) -> list[str]:
    return [secret for secret in secrets if secret and secret in text]


def _database_text_leaks(tenant_ids: list[int], secrets: list[str]) -> list[str]:
    """Every text-like column of every table, read once per tenant (RLS
    hides other tenants' rows) and once with no tenant (platform tables)."""
    params = connection.get_connection_params()
    for key in ("cursor_factory", "context", "prepare_threshold", "server_side_binding"):
        params.pop(key, None)
    found = []
    with psycopg.connect(**params, autocommit=True) as db, db.cursor() as cursor:
        cursor.execute(
            "SELECT table_name, column_name FROM information_schema.columns "
            "WHERE table_schema = 'public' AND data_type IN "
            "('text', 'character varying', 'json', 'jsonb', 'bytea', 'character')"
        )
        columns = cursor.fetchall()
        assert len(columns) > 50  # the scan sees the schema, not an empty list
        for tenant_id in [*tenant_ids, None]:
            cursor.execute("SELECT set_config('acorn.tenant_id', %s, false)",
                           [str(tenant_id) if tenant_id else ""])
            for table, column in columns:
                for secret in secrets:
                    cursor.execute(
                        f'SELECT count(*) FROM "{table}" '  # noqa: S608 - catalog names
                        f'WHERE position(%s in "{column}"::text) > 0', [secret])
                    if cursor.fetchone()[0]:
                        found.append(f"{table}.{column} holds {secret[:10]}...")
    return found


def _message_text(message: dict) -> str:
    """A kombu envelope with its base64 body decoded."""
    body = message.get("body", "")
    if message.get("properties", {}).get("body_encoding") == "base64":
        body = base64.b64decode(body).decode("utf-8", "replace")
    return json.dumps(message) + body


def test_canary_credentials_never_leave_the_encrypted_columns(
    tenant_a, tenant_b, member_client, caplog, redis_server
):
    caplog.set_level(logging.DEBUG)  # every logger, every level
    credentials = {
        "client_id": f"amzn1.application-oa2-client.{CANARY.lower()}",
        "client_secret": f"amzn1.oa2-cs.v1.{CANARY}secret",
        "refresh_token": f"Atzr|{CANARY}refresh",
    }
    with running_sandbox(purchase_orders=0) as sandbox:
        sandbox.state.generate(vendor_code="DEMO1", count=4, days=2)
        # Sync, plan, acknowledge (auto-send), poll, ship: with the canary.
        world = seed_api_world(tenant=tenant_a, sandbox=sandbox, credentials=credentials)
        other = seed_api_world(tenant=tenant_b, sandbox=sandbox)
        account = world.account
        admin = member_client(tenant_a, "admin")
        test_url = reverse("channels:account_test",
                           kwargs={"tenant_slug": tenant_a.slug, "account_id": account.pk})
        pages = [admin.post(test_url, follow=True)]
        # A refused token call and an LWA outage: the error paths and pages.
        sandbox.control("POST", "/_sandbox/tokens/expire", {})
        sandbox.control("POST", "/_sandbox/faults", {"faults": [
            {"operation": "lwa", "kind": "status", "status": 500, "count": 5}]})
        # On an empty token cache (a private Redis), so the call goes to LWA.
        with app_on_redis(redis_server):
            pages.append(admin.post(test_url, follow=True))
        assert "Connection failed" in pages[-1].content.decode()
        sandbox.control("POST", "/_sandbox/faults", {"faults": []})
        # Task messages on a real broker: the dispatcher and a Send.
        with app_on_redis(redis_server, broker=True):
            from channels.models import AmazonVendorAccount, SyncRun
            from channels.tasks.purchase_orders import purchase_orders_sync_dispatch_task

            with tenant_scope(tenant_a, atomic=False):
                SyncRun.objects.all().delete()  # every account due
                AmazonVendorAccount.objects.update(poll_interval_minutes=1)
            assert purchase_orders_sync_dispatch_task() >= 2
            messages = broker_messages(redis_server, "amazon")
        issued_tokens = list(sandbox.state.access_tokens)
    secrets = [credentials["client_secret"], credentials["refresh_token"], *issued_tokens]
    assert issued_tokens  # the flows really exchanged the canary for tokens

    # Pages, error pages included.
    slug = {"tenant_slug": tenant_a.slug}
    for name, kwargs in [
        ("tenant_home", {}), ("channels:account_list", {}),
        ("channels:account_edit", {"account_id": account.pk}),
        ("channels:sync_run_list", {}), ("channels:api_call_list", {}),
        ("channels:exception_list", {}), ("channels:submission_list", {}),
        ("channels:po_list", {}), ("channels:shipment_list", {}), ("audit_log", {}),
        ("channels:ack_queue", {}),
    ]:
        response = admin.get(reverse(name, kwargs={**slug, **kwargs}))
        assert response.status_code == 200, name
        pages.append(response)
    with tenant_scope(tenant_a, atomic=False):
        from channels.models import Submission

        for submission in Submission.objects.all():
            pages.append(admin.get(reverse("channels:submission_detail", kwargs={
                **slug, "submission_id": submission.pk})))
    for page in pages:
        assert not _leaks(page.content.decode(), secrets), page.request["PATH_INFO"]

    # API answers: every list, every page, with the tenant's key.
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Api-Key {world.api_key}")
    schema_paths = [url for url in (
        reverse("api:channels:po_list"), reverse("api:channels:sync_run_list"),
        reverse("api:channels:api_call_list"), reverse("api:channels:mapping_list"),
        reverse("api:channels:shipment_list"), reverse("api:channels:submission_list"),
        reverse("api:channels:vendor_kpis"), reverse("api:tenant_detail"),
    )]
    for url in schema_paths:
        response = api.get(url)
        assert response.status_code == 200, url
        assert not _leaks(response.content.decode(), secrets), url

    # Task messages.
    assert messages, "the dispatcher put sync tasks on the broker"
    for message in messages:
        assert not _leaks(_message_text(message), secrets)

    # Logs of every logger at DEBUG.
    log_text = "\n".join(f"{r.name} {r.getMessage()} {r.args!r} {r.exc_text or ''}"
                         for r in caplog.records)
    assert "LWA access token refreshed" in log_text  # the capture saw the flows
    assert not _leaks(log_text, secrets)

    # The database: nowhere in plain text; the encrypted columns hold them.
    assert _database_text_leaks([tenant_a.pk, tenant_b.pk], secrets) == []
    with tenant_scope(tenant_a, atomic=False):
        from channels.models import AmazonVendorAccount

        stored = AmazonVendorAccount.objects.get(pk=account.pk)
        assert stored.lwa_client_secret == credentials["client_secret"]
        assert stored.lwa_refresh_token == credentials["refresh_token"]
    assert other.account.pk != account.pk
    # The scan finds what it looks for: a planted copy in tenant B's data.
    planted = f"{CANARY}planted"
    with tenant_scope(tenant_b, atomic=False):
        from inventory.models import Product

        Product.objects.filter(pk=Product.objects.first().pk).update(name=planted)
    assert _database_text_leaks([tenant_b.pk], [planted]) == [
        "inventory_product.name holds " + planted[:10] + "..."]
