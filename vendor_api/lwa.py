"""Login with Amazon: access tokens shared by every process.

Popular clients keep the token in process memory, so N workers make N token
calls an hour and a fleet restart stampedes LWA. Here the token lives in the
Django cache (Redis in production) under a key derived from the app and the
refresh token, is refreshed before it expires, and one process refreshes at
a time: the others wait on a ``cache.add`` lock (atomic SET NX on Redis and
on the file cache's create-exclusive) and then read what it stored.

A refresh token that LWA refuses is remembered in the cache too, so every
process raises ``ReauthorizationRequired`` at once instead of asking again.
"""

from __future__ import annotations

import hashlib
import logging
import time
import uuid
from dataclasses import dataclass, field

import requests

from vendor_api.errors import LwaUnavailable, ReauthorizationRequired

logger = logging.getLogger(__name__)

# LWA's OAuth errors that no retry can fix (RFC 6749 5.2).
REAUTHORIZATION_ERRORS = frozenset({"invalid_grant", "invalid_client", "unauthorized_client"})
# Refresh this long before expiry so a call never leaves with a token that
# dies in flight; capped at half the lifetime for short-lived test tokens.
REFRESH_MARGIN_SECONDS = 300
# Long enough for a slow LWA answer (read timeout 10 s) plus margin.
REFRESH_LOCK_SECONDS = 15
# How long a refused refresh token stays marked; re-authorising stores a new
# refresh token, which has a different cache key, so the mark never blocks it.
REAUTHORIZATION_MARK_SECONDS = 24 * 3600
LWA_TIMEOUT = (3.05, 10)


@dataclass(frozen=True)
class LwaCredentials:
    client_id: str
    client_secret: str = field(repr=False)
    refresh_token: str = field(repr=False)

    @property
    def cache_key(self) -> str:
        # Never put the secret itself in a key; a digest names the grant.
        digest = hashlib.sha256(
            f"{self.client_id}\x00{self.refresh_token}".encode()
        ).hexdigest()[:32]
        return f"vendor_api:lwa:{digest}"


@dataclass(frozen=True)
class AccessToken:
    value: str = field(repr=False)
    expires_at: float  # epoch seconds

    def usable(self, *, now: float, margin: float) -> bool:
        return now < self.expires_at - margin


class AccessTokenProvider:
    def __init__(
        self,
        *,
        credentials: LwaCredentials,
        token_url: str,
        cache,
        session: requests.Session | None = None,
        refresh_margin_seconds: float = REFRESH_MARGIN_SECONDS,
        timeout: tuple[float, float] = LWA_TIMEOUT,
        wait_for_other_refresh_seconds: float = REFRESH_LOCK_SECONDS,
    ):
        self.credentials = credentials
        self.token_url = token_url
        self.cache = cache
        self.session = session or requests.Session()
        self.refresh_margin_seconds = refresh_margin_seconds
        self.timeout = timeout
        self.wait_for_other_refresh_seconds = wait_for_other_refresh_seconds
        self.token_calls = 0  # LWA requests made by this provider (observability, bench)

    @property
    def _token_key(self) -> str:
        return f"{self.credentials.cache_key}:token"

    @property
    def _lock_key(self) -> str:
        return f"{self.credentials.cache_key}:lock"

    @property
    def _refused_key(self) -> str:
        return f"{self.credentials.cache_key}:refused"

    def access_token(self) -> str:
        """A valid access token, from the shared cache or one LWA call for all processes."""
        deadline = time.monotonic() + self.wait_for_other_refresh_seconds
        while True:
            self._raise_if_refused()
            token = self._cached_token()
            if token is not None:
                return token.value
            owner = uuid.uuid4().hex
            if self.cache.add(self._lock_key, owner, timeout=REFRESH_LOCK_SECONDS):
                try:
                    # Another process may have stored a token between our
                    # read and our lock; do not call LWA twice for it.
                    token = self._cached_token()
                    if token is not None:
                        return token.value
                    return self._refresh().value
                finally:
                    if self.cache.get(self._lock_key) == owner:
                        self.cache.delete(self._lock_key)
            if time.monotonic() > deadline:
                # The lock holder died or LWA is very slow: refresh ourselves
                # rather than fail; the lock expires on its own.
                logger.warning("LWA refresh lock held too long; refreshing without it")
                return self._refresh().value
            time.sleep(0.05)

    def invalidate(self, *, rejected_token: str) -> None:
        """Drop the cached token if it is the one Amazon rejected.

        Comparing first keeps N processes that saw the same 403 from
        throwing away the fresh token the first of them fetched.
        """
        token = self.cache.get(self._token_key)
        if token and token.get("value") == rejected_token:
            self.cache.delete(self._token_key)

    def _cached_token(self) -> AccessToken | None:
        raw = self.cache.get(self._token_key)
        if not raw:
            return None
        token = AccessToken(value=raw["value"], expires_at=raw["expires_at"])
        lifetime = raw.get("lifetime", 3600)
        margin = min(self.refresh_margin_seconds, lifetime / 2)
        if token.usable(now=time.time(), margin=margin):
            return token
        return None

    def _raise_if_refused(self) -> None:
        refused = self.cache.get(self._refused_key)
        if refused:
            raise ReauthorizationRequired(
                f"Amazon refused the authorization ({refused['error']}): "
                "the vendor must authorize the application again.",
                operation="lwa",
                status=refused.get("status"),
            )

    def _refresh(self) -> AccessToken:
        self.token_calls += 1
        started = time.time()
        try:
            response = self.session.post(
                self.token_url,
                data={
                    "grant_type": "refresh_token",
                    "refresh_token": self.credentials.refresh_token,
                    "client_id": self.credentials.client_id,
                    "client_secret": self.credentials.client_secret,
                },
                headers={"Content-Type": "application/x-www-form-urlencoded;charset=UTF-8"},
                timeout=self.timeout,
            )
        except requests.RequestException as error:
            raise LwaUnavailable(
                f"LWA token endpoint unreachable: {type(error).__name__}", operation="lwa"
            ) from error
        try:
            body = response.json()
        except ValueError:
            body = {}
        if response.status_code == 200 and body.get("access_token"):
            lifetime = int(body.get("expires_in", 3600))
            token = AccessToken(value=body["access_token"], expires_at=started + lifetime)
            margin = min(self.refresh_margin_seconds, lifetime / 2)
            self.cache.set(
                self._token_key,
                {"value": token.value, "expires_at": token.expires_at, "lifetime": lifetime},
                timeout=max(1, int(lifetime - margin)),
            )
            logger.info("LWA access token refreshed for client %s", self.credentials.client_id)
            return token
        error_code = str(body.get("error", ""))
        if error_code in REAUTHORIZATION_ERRORS:
            self.cache.set(
                self._refused_key,
                {"error": error_code, "status": response.status_code},
                timeout=REAUTHORIZATION_MARK_SECONDS,
            )
            logger.warning(
                "LWA refused client %s: %s", self.credentials.client_id, error_code
            )
            raise ReauthorizationRequired(
                f"Amazon refused the authorization ({error_code}): "
                "the vendor must authorize the application again.",
                operation="lwa",
                status=response.status_code,
            )
        raise LwaUnavailable(
            f"LWA token endpoint answered {response.status_code} {error_code}".strip(),
            operation="lwa",
            status=response.status_code,
        )
