"""Typed errors raised by the SP-API client.

Every error carries what support needs: the operation, the HTTP status (when
a response arrived), SP-API ``errors[]`` and ``x-amzn-RequestId``. Callers
branch on the class, never on message text:

- ``ReauthorizationRequired``: LWA refused the refresh token or the app
  (``invalid_grant``/``invalid_client``). Retrying cannot help; the vendor
  must authorise the application again.
- ``OutcomeUnknown``: a POST was sent but no answer arrived. Amazon may or
  may not have accepted it; reconcile before resubmitting.
- ``Throttled``, ``ServerError``, ``TransportError``: transient failures
  that outlived the client's own retries; a task may retry later.
- ``InvalidInput``, ``NotFound``, ``AccessDenied``: the request is wrong.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ApiErrorDetail:
    code: str
    message: str
    details: str = ""

    @classmethod
    def from_json(cls, raw: dict) -> ApiErrorDetail:
        return cls(
            code=str(raw.get("code", "")),
            message=str(raw.get("message", "")),
            details=str(raw.get("details") or ""),
        )


class SpApiError(Exception):
    """Base of every error the client raises."""

    retryable = False

    def __init__(
        self,
        message: str,
        *,
        operation: str = "",
        status: int | None = None,
        errors: tuple[ApiErrorDetail, ...] = (),
        request_id: str | None = None,
    ):
        super().__init__(message)
        self.message = message
        self.operation = operation
        self.status = status
        self.errors = tuple(errors)
        self.request_id = request_id

    @property
    def error_code(self) -> str | None:
        """The first SP-API error code, or the class name when Amazon gave none."""
        if self.errors:
            return self.errors[0].code
        return type(self).__name__

    def __str__(self) -> str:
        parts = [self.message]
        if self.status is not None:
            parts.append(f"status={self.status}")
        if self.request_id:
            parts.append(f"request_id={self.request_id}")
        return " ".join(parts)


class ReauthorizationRequired(SpApiError):
    """LWA refused the refresh token or the client credentials."""

    # LWA's OAuth error and its description, when LWA gave them.
    lwa_error: str = ""
    lwa_error_description: str = ""


class EndpointNotAllowed(SpApiError):
    """The account's endpoint is not an Amazon host nor allow-listed: no
    request (and no credential) is sent there."""


class LwaUnavailable(SpApiError):
    """The LWA token endpoint failed transiently (5xx, timeout)."""

    retryable = True


class InvalidInput(SpApiError):
    """400: the request did not validate (Amazon's ``InvalidInput``)."""


class AccessDenied(SpApiError):
    """403 that a fresh access token did not cure (role missing, app revoked)."""


class NotFound(SpApiError):
    pass


class RequestRejected(SpApiError):
    """Any other 4xx (401, 409, 413, 415)."""


class Throttled(SpApiError):
    """429 after the client's bounded retries."""

    retryable = True


class ServerError(SpApiError):
    """5xx after the client's bounded retries."""

    retryable = True


class TransportError(SpApiError):
    """No usable response: connection refused or reset, timeout, broken body."""

    retryable = True


class OutcomeUnknown(SpApiError):
    """A POST left the client but its answer did not arrive.

    Not retryable by the client: Amazon offers no idempotency key, so the
    caller must reconcile (e.g. getPurchaseOrdersStatus) before resending.
    """


class RateLimitWaitTooLong(SpApiError):
    """The shared token bucket would make this call wait past its budget."""

    retryable = True


class UnexpectedResponse(SpApiError):
    """A 2xx whose body does not have the documented shape."""
