"""Store connections: create, update (secrets write-only), test, build the adapter.

Secrets are one JSON object in an ``EncryptedTextField``; a blank secret on
update keeps the stored one, and changing the shop URL (or the platform)
requires every secret again, so stored secrets never follow a changed
endpoint. A base URL must be one of the platform's documented hosts
(``PLATFORM_HOSTS``) or allow-listed (``ACORN_STORE_ENDPOINT_ALLOWLIST``),
checked when saved and on every adapter build.
"""

from __future__ import annotations

import ipaddress
import json
import logging
from urllib.parse import urlsplit

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.debug import sensitive_variables

from acorn.exceptions import ApplicationError, NotFoundError
from acorn.models import AuditAction
from acorn.services import audit_record, audit_snapshot, model_update
from channels.models import (
    StoreConnection,
    StoreConnectionStatus,
    StoreLocationMapping,
    StorePlatform,
    StoreSyncKind,
)
from channels.services.stores.runs import store_run_fail, store_run_finish, store_run_start
from channels.stores.adapter import ChannelAdapter, Platform, StoreEndpoint, StoreError
from channels.stores.registry import CREDENTIAL_KEYS, adapter_build
from vendor_api.endpoints import url_allowed

logger = logging.getLogger(__name__)

CONNECTION_NOT_FOUND = "No such store connection."
CONNECTION_FIELDS = [
    "name", "api_version", "channel_name", "reconcile_interval_minutes",
    "order_poll_interval_minutes", "status",
]
SHOPIFY_DEFAULT_VERSION = "2026-04"
# Documented API hosts: Shopify shops live on *.myshopify.com, every
# BigCommerce store on api.bigcommerce.com. Magento is self-hosted on the
# merchant's domain, so any public HTTPS host on 443 (no IP literal, no
# localhost) is its "documented host"; anything else needs the allow-list.
SHOPIFY_HOST_SUFFIX = ".myshopify.com"
BIGCOMMERCE_HOSTS = frozenset({"api.bigcommerce.com"})


def _required_secret_sets(platform: str) -> list[tuple[str, ...]]:
    """Alternatives: one of these key sets must be complete."""
    if platform == StorePlatform.SHOPIFY:
        return [("access_token",), ("client_id", "client_secret")]
    if platform == StorePlatform.MAGENTO:
        return [("consumer_key", "consumer_secret", "access_token", "access_token_secret")]
    return [("store_hash", "access_token")]


def _public_https_host(url: str) -> bool:
    parts = urlsplit(url)
    try:
        port = parts.port
    except ValueError:
        return False
    host = (parts.hostname or "").lower()
    if parts.scheme != "https" or (port or 443) != 443 or not host or parts.username:
        return False
    if host == "localhost" or host.endswith(".localhost") or "." not in host:
        return False
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return True
    return False  # IP literals are not a store's documented host


def store_url_problem(*, platform: str, shop_url: str) -> str | None:
    """Why this base URL is refused for the platform, or None."""
    allowlist = settings.ACORN_STORE_ENDPOINT_ALLOWLIST
    if url_allowed(shop_url, amazon_hosts=(), allowlist=allowlist):
        return None
    host = (urlsplit(shop_url).hostname or "").lower()
    documented = False
    if platform == StorePlatform.SHOPIFY:
        documented = _public_https_host(shop_url) and host.endswith(SHOPIFY_HOST_SUFFIX)
    elif platform == StorePlatform.BIGCOMMERCE:
        documented = _public_https_host(shop_url) and host in BIGCOMMERCE_HOSTS
    elif platform == StorePlatform.MAGENTO:
        documented = _public_https_host(shop_url)
    if documented:
        return None
    return _("%(url)s is not a documented %(platform)s host (HTTPS on port 443) and the "
             "ACORN_STORE_ENDPOINT_ALLOWLIST setting does not allow it.") % {
        "url": shop_url, "platform": StorePlatform(platform).label,
    }


def connection_get(*, tenant, connection_id: int) -> StoreConnection:
    connection = StoreConnection.objects.filter(tenant=tenant, pk=connection_id).first()
    if connection is None:
        raise NotFoundError(CONNECTION_NOT_FOUND)
    return connection


@sensitive_variables()
def connection_secrets(*, connection: StoreConnection) -> dict[str, str]:
    """The decrypted secrets (only for building the adapter)."""
    if not connection.credentials:
        return {}
    return json.loads(connection.credentials)


@sensitive_variables()
def _secrets_merge(*, platform: str, stored: dict, entered: dict, require_all: bool) -> dict:
    allowed = CREDENTIAL_KEYS[Platform(platform)]
    unknown = sorted(set(entered) - set(allowed))
    if unknown:
        raise ApplicationError(_("Unknown credential fields: %s.") % ", ".join(unknown))
    entered = {key: value.strip() for key, value in entered.items() if value and value.strip()}
    merged = dict(entered) if require_all else {**stored, **entered}
    if not any(all(merged.get(key) for key in keys)
               for keys in _required_secret_sets(platform)):
        options = " / ".join(" + ".join(keys) for keys in _required_secret_sets(platform))
        if require_all:
            raise ApplicationError(
                _("Enter the store's secrets (%s); a new or moved store needs them all again.")
                % options
            )
        raise ApplicationError(_("The store's secrets are incomplete (%s).") % options)
    return merged


def _channel_name_check(name: str) -> None:
    if name and not (name == "web_store" or name.startswith("store:") or name.isidentifier()):
        raise ApplicationError(
            _("A channel name is \"web_store\", \"store:<name>\" or a simple identifier.")
        )


@sensitive_variables()
@transaction.atomic
def connection_create(*, tenant, platform: str, name: str, shop_url: str, secrets: dict,
                      actor=None, **fields) -> StoreConnection:
    platform = StorePlatform(platform)
    problem = store_url_problem(platform=platform, shop_url=shop_url)
    if problem:
        raise ApplicationError(problem, {"field": "shop_url"})
    merged = _secrets_merge(platform=platform, stored={}, entered=secrets, require_all=True)
    _channel_name_check(fields.get("channel_name", ""))
    if StoreConnection.objects.filter(tenant=tenant, name=name).exists():
        raise ApplicationError(_("A store connection with this name exists."), {"field": "name"})
    connection = StoreConnection(
        tenant=tenant, platform=platform, name=name, shop_url=shop_url,
        api_version=fields.pop("api_version", "") or (
            SHOPIFY_DEFAULT_VERSION if platform == StorePlatform.SHOPIFY else ""),
        credentials=json.dumps(merged), credential_keys_set=sorted(merged),
        credentials_entered_at=timezone.now(), **fields,
    )
    connection.full_clean(exclude=["tenant"])
    connection.save()
    audit_record(actor=actor, action=AuditAction.CREATE, instance=connection,
                 after=audit_snapshot(connection), summary="Store connection created")
    return connection


@sensitive_variables()
@transaction.atomic
def connection_update(*, tenant, connection_id: int, data: dict, secrets: dict | None = None,
                      actor=None) -> StoreConnection:
    """Update settings; ``secrets`` with blank values keep the stored ones.

    A new ``shop_url`` requires every secret in ``secrets`` (none are kept).
    """
    connection = StoreConnection.objects.select_for_update().filter(
        tenant=tenant, pk=connection_id).first()
    if connection is None:
        raise NotFoundError(CONNECTION_NOT_FOUND)
    before = audit_snapshot(connection)
    secrets = secrets or {}
    new_url = data.get("shop_url", connection.shop_url)
    moved = new_url != connection.shop_url
    if moved:
        problem = store_url_problem(platform=connection.platform, shop_url=new_url)
        if problem:
            raise ApplicationError(problem, {"field": "shop_url"})
    if moved or any(value for value in secrets.values()):
        merged = _secrets_merge(
            platform=connection.platform, stored=connection_secrets(connection=connection),
            entered=secrets, require_all=moved,
        )
        connection.credentials = json.dumps(merged)
        connection.credential_keys_set = sorted(merged)
        connection.credentials_entered_at = timezone.now()
        connection.shop_url = new_url
    _channel_name_check(data.get("channel_name", connection.channel_name))
    model_update(instance=connection, fields=CONNECTION_FIELDS,
                 data={k: v for k, v in data.items() if k in CONNECTION_FIELDS})
    connection.full_clean(exclude=["tenant"])
    connection.save()
    audit_record(actor=actor, action=AuditAction.UPDATE, instance=connection,
                 before=before, after=audit_snapshot(connection),
                 summary="Store connection updated" + (" (moved; secrets re-entered)"
                                                       if moved else ""))
    return connection


def connection_endpoint(*, connection: StoreConnection) -> StoreEndpoint:
    """Where the connection's calls go, checked on every build."""
    problem = store_url_problem(platform=connection.platform, shop_url=connection.shop_url)
    if problem:
        raise ApplicationError(problem)
    return StoreEndpoint(platform=Platform(connection.platform), base_url=connection.shop_url,
                         api_version=connection.api_version)


@sensitive_variables()
def connection_adapter(*, connection: StoreConnection) -> ChannelAdapter:
    """The one place an adapter is built for a connection."""
    return adapter_build(
        endpoint=connection_endpoint(connection=connection),
        credentials=connection_secrets(connection=connection), cache=cache,
    )


def connection_error_record(*, connection: StoreConnection, error: Exception) -> None:
    """Health: count the error on the connection (its own short transaction)."""
    message = str(getattr(error, "message", "") or error)[:500]
    StoreConnection.objects.filter(tenant_id=connection.tenant_id, pk=connection.pk).update(
        last_error_at=timezone.now(), last_error=message,
        consecutive_errors=connection.consecutive_errors + 1,
    )


def connection_ok_record(*, connection: StoreConnection, **fields) -> None:
    StoreConnection.objects.filter(tenant_id=connection.tenant_id, pk=connection.pk).update(
        consecutive_errors=0, **fields
    )


def connection_test(*, tenant, connection_id: int, actor=None) -> StoreConnection:
    """A real call through the adapter (list locations); result recorded.

    The locations it returns are stored as unmapped location rows, so the
    location mapping page offers them.
    """
    connection = connection_get(tenant=tenant, connection_id=connection_id)
    run = store_run_start(tenant=tenant, connection=connection, kind=StoreSyncKind.TEST)
    now = timezone.now()
    try:
        locations = connection_adapter(connection=connection).list_locations()
    except (StoreError, ApplicationError, LookupError) as error:
        detail = str(getattr(error, "message", "") or error)[:500]
        store_run_fail(run=run, error=error)
        ok, message = False, detail
    else:
        with transaction.atomic():
            for location in locations:
                StoreLocationMapping.objects.update_or_create(
                    tenant=tenant, connection=connection, location_id=location.location_id,
                    defaults={"location_name": location.name[:200]},
                )
        store_run_finish(run=run, counts={"locations": len(locations)})
        ok, message = True, _("Connected: %(count)d locations.") % {"count": len(locations)}
    with transaction.atomic():
        StoreConnection.objects.filter(tenant=tenant, pk=connection.pk).update(
            last_connection_test_at=now, last_connection_test_ok=ok,
            last_connection_test_detail=message[:500],
            **({"status": StoreConnectionStatus.ACTIVE, "status_detail": ""} if ok
               and connection.status == StoreConnectionStatus.ERROR else {}),
        )
        connection.refresh_from_db()
        audit_record(actor=actor, action=AuditAction.UPDATE, instance=connection,
                     summary=f"Store connection test: {'ok' if ok else 'failed'}")
    return connection


@transaction.atomic
def location_mapping_set(*, tenant, connection_id: int, mappings: dict[int, dict],
                         actor=None) -> list[StoreLocationMapping]:
    """Set each location row's warehouse and the primary location.

    ``mappings``: ``{mapping_id: {"warehouse_id": id|None, "is_primary": bool}}``.
    """
    from inventory.selectors import warehouse_list

    connection = connection_get(tenant=tenant, connection_id=connection_id)
    rows = {row.pk: row for row in StoreLocationMapping.objects.select_for_update().filter(
        tenant=tenant, connection=connection)}
    warehouses = {w.pk: w for w in warehouse_list(tenant=tenant)}
    primaries = [pk for pk, values in mappings.items() if values.get("is_primary")]
    if len(primaries) > 1:
        raise ApplicationError(_("Choose one primary location."))
    before = {pk: (row.warehouse_id, row.is_primary) for pk, row in rows.items()}
    StoreLocationMapping.objects.filter(tenant=tenant, connection=connection).update(
        is_primary=False)
    for pk, values in mappings.items():
        row = rows.get(pk)
        if row is None:
            raise NotFoundError(_("No such store location."))
        warehouse_id = values.get("warehouse_id")
        if warehouse_id and warehouse_id not in warehouses:
            raise ApplicationError(_("No such warehouse."))
        row.warehouse_id = warehouse_id or None
        row.is_primary = bool(values.get("is_primary"))
        if row.is_primary and not row.warehouse_id:
            raise ApplicationError(_("The primary location must be mapped to a warehouse."))
        row.save(update_fields=["warehouse", "is_primary", "updated_at"])
    after = {pk: (row.warehouse_id, row.is_primary) for pk, row in rows.items()}
    audit_record(actor=actor, action=AuditAction.UPDATE, instance=connection,
                 before={"locations": str(before)}, after={"locations": str(after)},
                 summary="Store locations mapped")
    # Where stock goes changed: every listing of the connection is pushed again.
    from channels.models import Listing

    Listing.objects.filter(tenant=tenant, connection=connection).update(push_pending=True)
    return list(rows.values())
