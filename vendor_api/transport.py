"""One SP-API call: rate limit, token, timeouts, retries, typed errors, hook.

Retries follow AWS' "exponential backoff and full jitter": the n-th delay is
uniform in [0, min(cap, base * 2**n)], bounded by attempts and total time.
What is retried, and why:

- 429: throttled before processing; safe for every method. The bucket is
  lowered when ``x-amzn-RateLimit-Limit`` reports a lower rate.
- 5xx: Amazon did not process the request. Except for a POST that got a
  gateway error (502/504): the backend may have processed it, so the POST's
  outcome is unknown.
- Connection refused / connect timeout: nothing was sent; safe for all.
- Read timeout, reset, truncated body: a GET is retried; a POST raises
  ``OutcomeUnknown``, because Amazon's POSTs have no idempotency key and a
  blind resend can submit an ASN or an invoice twice.
- 403 about the token: the token is dropped and refreshed once, then the
  call is repeated once.
"""

from __future__ import annotations

import json
import logging
import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import requests
from django.utils.decorators import method_decorator
from django.views.decorators.debug import sensitive_variables
from urllib3.exceptions import ConnectTimeoutError

from vendor_api import errors
from vendor_api.limits import RateLimiter, UsagePlan, bucket_key
from vendor_api.lwa import AccessTokenProvider

logger = logging.getLogger(__name__)

POST_AMBIGUOUS_STATUSES = frozenset({502, 504})
USER_AGENT = "ACORN/1.0 (Language=Python; Platform=Linux)"


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 5
    base_delay_seconds: float = 0.5
    max_delay_seconds: float = 20.0
    # Total time one call may take, sleeps and bucket waits included.
    total_budget_seconds: float = 60.0

    def backoff_seconds(self, *, retry_number: int, rng: random.Random) -> float:
        ceiling = min(self.max_delay_seconds, self.base_delay_seconds * 2 ** (retry_number - 1))
        return rng.uniform(0, ceiling)


@dataclass(frozen=True)
class Timeouts:
    connect_seconds: float = 3.05
    # Amazon answers in well under a second; 30 s covers big report pages.
    read_seconds: float = 30.0


@dataclass(frozen=True)
class ApiCallRecord:
    """What the call log stores for one logical call (retries folded in)."""

    operation: str
    method: str
    path: str
    status: int | None
    duration_seconds: float
    attempts: int
    request_id: str | None
    error_code: str | None
    throttled_attempts: int
    token_refreshed: bool
    region: str
    selling_partner_id: str


CallHook = Callable[[ApiCallRecord], None]


@dataclass(frozen=True)
class ApiResponse:
    status: int
    body: Any
    headers: Mapping[str, str]
    request_id: str | None
    attempts: int


class _RefreshAndRepeat(Exception):
    """Amazon rejected the access token; fetch a new one and repeat at once."""


class _Retry(Exception):
    """One attempt failed in a way the policy may retry."""

    def __init__(self, error: errors.SpApiError):
        self.error = error


def _errors_from_body(body: Any) -> tuple[errors.ApiErrorDetail, ...]:
    if isinstance(body, dict) and isinstance(body.get("errors"), list):
        return tuple(
            errors.ApiErrorDetail.from_json(item)
            for item in body["errors"]
            if isinstance(item, dict)
        )
    return ()


def _is_token_problem(details: tuple[errors.ApiErrorDetail, ...]) -> bool:
    text = " ".join(f"{d.code} {d.message} {d.details}" for d in details).lower()
    return "token" in text or "expired" in text


def _nothing_was_sent(error: requests.ConnectionError) -> bool:
    if isinstance(error, requests.ConnectTimeout):
        return True
    reason = getattr(error.args[0], "reason", None) if error.args else None
    # urllib3's NewConnectionError (refused, DNS) subclasses ConnectTimeoutError.
    return isinstance(reason, ConnectTimeoutError)


class SpApiTransport:
    def __init__(
        self,
        *,
        base_url: str,
        tokens: AccessTokenProvider,
        limiter: RateLimiter,
        usage_plans: Mapping[str, UsagePlan],
        region: str,
        selling_partner_id: str,
        call_hook: CallHook | None = None,
        retry_policy: RetryPolicy | None = None,
        timeouts: Timeouts | None = None,
        session: requests.Session | None = None,
        rng: random.Random | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ):
        self.base_url = base_url.rstrip("/")
        self.tokens = tokens
        self.limiter = limiter
        self.usage_plans = usage_plans
        self.region = region
        self.selling_partner_id = selling_partner_id
        self.call_hook = call_hook
        self.retry_policy = retry_policy or RetryPolicy()
        self.timeouts = timeouts or Timeouts()
        self.session = session or requests.Session()
        self.rng = rng or random.Random()
        self.sleep = sleep

    def call(
        self,
        *,
        operation: str,
        method: str,
        path: str,
        query: Mapping[str, Any] | None = None,
        body: Any = None,
    ) -> ApiResponse:
        started = time.monotonic()
        deadline = started + self.retry_policy.total_budget_seconds
        state = {"attempts": 0, "throttled": 0, "refreshed": False}
        response: ApiResponse | None = None
        failure: errors.SpApiError | None = None
        try:
            response = self._call_with_retries(
                operation=operation, method=method, path=path, query=query, body=body,
                deadline=deadline, state=state,
            )
            return response
        except errors.SpApiError as error:
            error.operation = error.operation or operation
            failure = error
            raise
        finally:
            self._report(
                operation=operation, method=method, path=path, started=started,
                state=state, response=response, failure=failure,
            )

    def _call_with_retries(self, *, operation, method, path, query, body, deadline, state):
        retry_number = 0
        while True:
            state["attempts"] += 1
            try:
                return self._attempt(
                    operation=operation, method=method, path=path, query=query, body=body,
                    deadline=deadline, state=state,
                )
            except _RefreshAndRepeat:
                continue
            except _Retry as retry:
                retry_number += 1
                if retry_number >= self.retry_policy.max_attempts:
                    raise retry.error from None
                delay = self.retry_policy.backoff_seconds(retry_number=retry_number, rng=self.rng)
                if time.monotonic() + delay >= deadline:
                    raise retry.error from None
                logger.info(
                    "SP-API %s failed (%s); retry %d in %.2fs",
                    operation, retry.error.error_code, retry_number, delay,
                )
                self.sleep(delay)

    def _wait_for_bucket(self, *, operation: str, deadline: float) -> None:
        plan = self.usage_plans.get(operation)
        if plan is None:
            return
        key = self._bucket_key(operation)
        wait = self.limiter.reserve(
            key=key, plan=plan, max_wait_seconds=max(0.0, deadline - time.monotonic())
        )
        if wait is None:
            raise errors.RateLimitWaitTooLong(
                f"The shared rate limit for {operation} would delay this call past its "
                "time budget.",
                operation=operation,
            )
        if wait > 0:
            self.sleep(wait)

    def _bucket_key(self, operation: str) -> str:
        return bucket_key(
            region=self.region, selling_partner_id=self.selling_partner_id, operation=operation
        )

    # The access token is a credential: error reports (and requests' frames
    # beneath this one) show stars for it.
    @method_decorator(sensitive_variables("token", "headers", "kwargs"))
    def _attempt(self, *, operation, method, path, query, body, deadline, state) -> ApiResponse:
        self._wait_for_bucket(operation=operation, deadline=deadline)
        token = self.tokens.access_token()
        remaining = max(1.0, deadline - time.monotonic())
        timeout = (
            min(self.timeouts.connect_seconds, remaining),
            min(self.timeouts.read_seconds, remaining),
        )
        headers = {
            "x-amz-access-token": token,
            "user-agent": USER_AGENT,
            "x-amz-date": time.strftime("%Y%m%dT%H%M%SZ", time.gmtime()),
            "accept": "application/json",
        }
        payload = None
        if body is not None:
            payload = json.dumps(body, separators=(",", ":")).encode()
            headers["content-type"] = "application/json"
        try:
            raw = self.session.request(
                method, self.base_url + path, params=query, data=payload,
                headers=headers, timeout=timeout,
            )
        except requests.ConnectionError as error:
            if _nothing_was_sent(error):
                raise _Retry(errors.TransportError(
                    f"Could not connect to SP-API: {type(error).__name__}", operation=operation
                )) from error
            return self._lost_answer(operation=operation, method=method, error=error)
        except (requests.Timeout, requests.exceptions.ChunkedEncodingError) as error:
            return self._lost_answer(operation=operation, method=method, error=error)
        except requests.RequestException as error:
            return self._lost_answer(operation=operation, method=method, error=error)
        return self._interpret(
            operation=operation, method=method, raw=raw, token=token, state=state
        )

    def _lost_answer(self, *, operation: str, method: str, error: Exception) -> ApiResponse:
        if method != "GET":
            raise errors.OutcomeUnknown(
                f"{operation} was sent but no complete answer arrived ({type(error).__name__}); "
                "reconcile before submitting again.",
                operation=operation,
            ) from error
        raise _Retry(errors.TransportError(
            f"SP-API {operation} got no complete answer: {type(error).__name__}",
            operation=operation,
        )) from error

    @method_decorator(sensitive_variables("token"))
    def _interpret(self, *, operation, method, raw: requests.Response, token, state) -> ApiResponse:
        status = raw.status_code
        request_id = raw.headers.get("x-amzn-RequestId")
        body: Any = None
        body_broken = False
        if raw.content:
            try:
                body = raw.json()
            except ValueError:
                body_broken = True
        details = _errors_from_body(body)
        context = {
            "operation": operation, "status": status, "errors": details, "request_id": request_id,
        }
        self._obey_rate_limit_header(operation=operation, raw=raw)
        if 200 <= status < 300:
            if body_broken:
                if method != "GET":
                    raise errors.OutcomeUnknown(
                        f"{operation} was accepted ({status}) but its body is unreadable; "
                        "reconcile before submitting again.",
                        **context,
                    )
                raise _Retry(errors.UnexpectedResponse(
                    f"SP-API {operation} returned an unreadable body.", **context
                ))
            return ApiResponse(
                status=status, body=body, headers=raw.headers, request_id=request_id,
                attempts=state["attempts"],
            )
        summary = "; ".join(f"{d.code}: {d.message}" for d in details) or raw.reason or ""
        message = f"SP-API {operation} failed with {status}: {summary}".rstrip(": ")
        if status == 429:
            state["throttled"] += 1
            raise _Retry(errors.Throttled(message, **context))
        if status == 403 and not state["refreshed"] and _is_token_problem(details):
            state["refreshed"] = True
            self.tokens.invalidate(rejected_token=token)
            logger.info("SP-API %s: access token rejected, refreshing once", operation)
            # The retry is immediate: this is not a transient server fault.
            raise _RefreshAndRepeat()
        if status >= 500:
            if method != "GET" and status in POST_AMBIGUOUS_STATUSES:
                raise errors.OutcomeUnknown(
                    f"{operation} hit a gateway error ({status}); Amazon may have processed "
                    "it. Reconcile before submitting again.",
                    **context,
                )
            raise _Retry(errors.ServerError(message, **context))
        if status == 400:
            raise errors.InvalidInput(message, **context)
        if status == 403:
            raise errors.AccessDenied(message, **context)
        if status == 404:
            raise errors.NotFound(message, **context)
        raise errors.RequestRejected(message, **context)

    def _obey_rate_limit_header(self, *, operation: str, raw: requests.Response) -> None:
        header = raw.headers.get("x-amzn-RateLimit-Limit")
        plan = self.usage_plans.get(operation)
        if not header or plan is None:
            return
        try:
            announced = float(header)
        except ValueError:
            return
        if 0 < announced < plan.rate:
            self.limiter.lower_rate(key=self._bucket_key(operation), rate=announced)

    def _report(self, *, operation, method, path, started, state, response, failure) -> None:
        if self.call_hook is None:
            return
        record = ApiCallRecord(
            operation=operation,
            method=method,
            path=path,
            status=response.status if response else (failure.status if failure else None),
            duration_seconds=time.monotonic() - started,
            attempts=state["attempts"],
            request_id=(
                response.request_id if response else (failure.request_id if failure else None)
            ),
            error_code=failure.error_code if failure else None,
            throttled_attempts=state["throttled"],
            token_refreshed=state["refreshed"],
            region=self.region,
            selling_partner_id=self.selling_partner_id,
        )
        try:
            self.call_hook(record)
        except Exception:
            # The call log must never turn a good Amazon call into a failure.
            logger.exception("SP-API call hook failed for %s", operation)

    def download(self, *, url: str, operation: str = "downloadReportDocument") -> bytes:
        """GET a presigned document URL: no token, no bucket, same timeouts and retries."""
        started = time.monotonic()
        deadline = started + self.retry_policy.total_budget_seconds
        for retry_number in range(1, self.retry_policy.max_attempts + 1):
            try:
                raw = self.session.get(
                    url, timeout=(self.timeouts.connect_seconds, self.timeouts.read_seconds)
                )
                if raw.status_code == 200:
                    return raw.content
                error = errors.ServerError(
                    f"Document download failed with {raw.status_code}",
                    operation=operation, status=raw.status_code,
                )
                if raw.status_code < 500:
                    raise error
            except requests.RequestException as exc:
                error = errors.TransportError(
                    f"Document download failed: {type(exc).__name__}", operation=operation
                )
            delay = self.retry_policy.backoff_seconds(retry_number=retry_number, rng=self.rng)
            out_of_time = time.monotonic() + delay > deadline
            if retry_number == self.retry_policy.max_attempts or out_of_time:
                raise error
            self.sleep(delay)
        raise AssertionError("unreachable")
