"""Store adapters found by platform.

Each adapter module registers a factory for its platform::

    from channels.stores.registry import adapter_register

    @adapter_register(Platform.SHOPIFY)
    def shopify_adapter(*, endpoint, credentials, cache):
        return ShopifyAdapter(endpoint=endpoint, credentials=credentials, cache=cache)

The factory takes keywords only:

- ``endpoint``: a ``StoreEndpoint`` (platform, base URL already checked
  against the platform's documented hosts or the allow-list, API version);
- ``credentials``: a plain dict of the connection's decrypted secrets, with
  the keys of ``CREDENTIAL_KEYS`` for the platform (absent or "" when not
  set); the adapter never stores them anywhere else;
- ``cache``: a Django cache (Redis in production) for what must be shared by
  every worker process: OAuth tokens (keyed by a digest of the whole grant,
  as ``vendor_api.lwa`` does, so a corrected secret never reuses a token
  issued to the old one) and the per-store rate governor's state.

The sync engine (``channels.services.stores``) builds adapters only through
``adapter_build``; modules listed in ``ADAPTER_MODULES`` are imported on
first use, so a platform whose module is not there yet fails with a clear
error instead of an import error at start-up.
"""

from __future__ import annotations

import importlib
import threading
from collections.abc import Callable, Mapping

from channels.stores.adapter import ChannelAdapter, Platform, StoreEndpoint

# Secrets per platform, by the name adapters read them under.
CREDENTIAL_KEYS: dict[Platform, tuple[str, ...]] = {
    # An access token (legacy custom app) OR client id + secret for the
    # client-credentials grant (~24 h tokens, refreshed by the adapter);
    # webhook_secret signs webhooks (the app's client secret).
    Platform.SHOPIFY: ("access_token", "client_id", "client_secret", "webhook_secret"),
    # OAuth 1.0a integration: consumer key/secret + access token/secret.
    Platform.MAGENTO: (
        "consumer_key", "consumer_secret", "access_token", "access_token_secret", "webhook_secret",
    ),
    # Store hash + X-Auth-Token; client_secret signs Standard Webhooks.
    Platform.BIGCOMMERCE: ("store_hash", "access_token", "client_secret", "webhook_secret"),
}

# Imported on first use; each registers its platform's factory.
ADAPTER_MODULES: tuple[str, ...] = (
    "channels.stores.shopify",
    "channels.stores.magento",
    "channels.stores.bigcommerce",
)

AdapterFactory = Callable[..., ChannelAdapter]

_factories: dict[Platform, AdapterFactory] = {}
_loaded = False
_lock = threading.Lock()


class AdapterMissing(LookupError):
    """No adapter is registered for the platform."""


def adapter_register(platform: Platform) -> Callable[[AdapterFactory], AdapterFactory]:
    """Decorator: register ``factory`` as the adapter of ``platform``."""

    def register(factory: AdapterFactory) -> AdapterFactory:
        _factories[Platform(platform)] = factory
        return factory

    return register


def _load() -> None:
    global _loaded
    if _loaded:
        return
    with _lock:
        if _loaded:
            return
        for module in ADAPTER_MODULES:
            try:
                importlib.import_module(module)
            except ModuleNotFoundError as error:
                if error.name != module:  # a real import error inside the adapter
                    raise
        _loaded = True


def adapter_platforms() -> list[Platform]:
    """The platforms that have an adapter."""
    _load()
    return sorted(_factories, key=lambda platform: platform.value)


def adapter_build(
    *, endpoint: StoreEndpoint, credentials: Mapping[str, str], cache
) -> ChannelAdapter:
    """An adapter for one store connection."""
    _load()
    try:
        factory = _factories[Platform(endpoint.platform)]
    except KeyError:
        raise AdapterMissing(f"No store adapter is installed for {endpoint.platform}.") from None
    return factory(endpoint=endpoint, credentials=dict(credentials), cache=cache)
