"""Login with Amazon: access tokens shared by every process.

Popular clients keep the token in process memory, so N workers make N token
calls an hour and a fleet restart stampedes LWA. Here the token lives in the
Django cache (Redis in production) under a key derived from the whole grant
(client id, client secret, refresh token and token URL), is refreshed before
it expires, and one process refreshes at a time: the others wait on a
``cache.add`` lock (atomic SET NX on Redis and on the file cache's
create-exclusive) and then read what it stored.

A grant that LWA refuses is remembered in the cache too, so every process
raises ``ReauthorizationRequired`` at once instead of asking again. Because
the key covers every part of the grant, a corrected secret or a new refresh
token is a different key: the mark never blocks the fix, and a token
fetched with one secret is never handed to another. ``lwa_grant_forget``
drops both when an account's credentials are saved, and ``exchange()``
(the connection test) asks LWA whatever the cache holds.
"""

from __future__ import annotations

import hashlib
import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field

import requests
from django.utils.decorators import method_decorator
from django.views.decorators.debug import sensitive_variables

from vendor_api.errors import LwaUnavailable, ReauthorizationRequired

logger = logging.getLogger(__name__)

# LWA's OAuth errors that no retry can fix (RFC 6749 5.2).
REAUTHORIZATION_ERRORS = frozenset({"invalid_grant", "invalid_client", "unauthorized_client"})
# Refresh this long before expiry so a call never leaves with a token that
# dies in flight; capped at half the lifetime for short-lived test tokens.
REFRESH_MARGIN_SECONDS = 300
# Long enough for a slow LWA answer (read timeout 10 s) plus margin.
REFRESH_LOCK_SECONDS = 15
# How long a refused grant stays marked: long enough that a fleet of workers
# asks LWA once, not once per task; short enough that a fix made at Amazon
# with unchanged credentials (an app re-approved) shows within the hour.
# New credentials are a new key and never wait for it.
REAUTHORIZATION_MARK_SECONDS = 3600
LWA_TIMEOUT = (3.05, 10)


@dataclass(frozen=True)
class LwaCredentials:
    client_id: str
    client_secret: str = field(repr=False)
    refresh_token: str = field(repr=False)

    def grant_key(self, *, token_url: str) -> str:
        """The cache key prefix of this grant at this LWA endpoint.

        Everything that decides LWA's answer is in it; never the secrets
        themselves, only a digest.
        """
        digest = hashlib.sha256(
            "\x00".join(
                (self.client_id, self.client_secret, self.refresh_token, token_url)
            ).encode()
        ).hexdigest()[:40]
        return f"vendor_api:lwa:{digest}"


def lwa_grant_forget(*, credentials: LwaCredentials, token_url: str, cache) -> None:
    """Drop the cached token, lock and refused mark of one grant."""
    prefix = credentials.grant_key(token_url=token_url)
    cache.delete_many([f"{prefix}:token", f"{prefix}:lock", f"{prefix}:refused"])


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
        clock: Callable[[], float] = time.time,
    ):
        self.credentials = credentials
        self.token_url = token_url
        self.cache = cache
        self.session = session or requests.Session()
        self.refresh_margin_seconds = refresh_margin_seconds
        self.timeout = timeout
        self.wait_for_other_refresh_seconds = wait_for_other_refresh_seconds
        # Epoch seconds; a test passes its own to step past an expiry.
        self.clock = clock
        self.token_calls = 0  # LWA requests made by this provider (observability, bench)

    @property
    def _grant_key(self) -> str:
        return self.credentials.grant_key(token_url=self.token_url)

    @property
    def _token_key(self) -> str:
        return f"{self._grant_key}:token"

    @property
    def _lock_key(self) -> str:
        return f"{self._grant_key}:lock"

    @property
    def _refused_key(self) -> str:
        return f"{self._grant_key}:refused"

    def exchange(self) -> AccessToken:
        """A real token exchange with LWA, whatever the cache holds.

        For the connection test: a cached token or refused mark must not
        answer for credentials that LWA would judge differently now. The
        answer is stored as usual (a fresh token, or the refusal).
        """
        self.cache.delete(self._token_key)
        self.cache.delete(self._refused_key)
        return self._refresh()

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
        if token.usable(now=self.clock(), margin=margin):
            return token
        return None

    def _raise_if_refused(self) -> None:
        refused = self.cache.get(self._refused_key)
        if refused:
            raise _refusal(
                error_code=refused["error"], description=refused.get("description", ""),
                status=refused.get("status"),
            )

    # The form holds the client secret and refresh token: error reports show
    # no local of this frame or of requests' frames beneath it.
    @method_decorator(sensitive_variables())
    def _refresh(self) -> AccessToken:
        self.token_calls += 1
        started = self.clock()
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
        # LWA's own words, bounded: shown to the admin, never a secret.
        description = str(body.get("error_description", ""))[:300]
        if error_code in REAUTHORIZATION_ERRORS:
            self.cache.set(
                self._refused_key,
                {"error": error_code, "description": description,
                 "status": response.status_code},
                timeout=REAUTHORIZATION_MARK_SECONDS,
            )
            logger.warning(
                "LWA refused client %s: %s", self.credentials.client_id, error_code
            )
            raise _refusal(
                error_code=error_code, description=description, status=response.status_code
            )
        raise LwaUnavailable(
            f"LWA token endpoint answered {response.status_code} {error_code}".strip(),
            operation="lwa",
            status=response.status_code,
        )


def _refusal(*, error_code: str, description: str, status: int | None) -> ReauthorizationRequired:
    reason = f"{error_code}: {description}" if description else error_code
    error = ReauthorizationRequired(
        f"Amazon refused the authorization ({reason}): "
        "the vendor must authorize the application again.",
        operation="lwa",
        status=status,
    )
    # The OAuth error (RFC 6749 5.2), e.g. invalid_grant for a revoked
    # authorization or invalid_client for a wrong or rotated secret.
    error.lwa_error = error_code
    error.lwa_error_description = description
    return error
