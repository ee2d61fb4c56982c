"""VendorApiClient: one vendor account's SP-API calls.

It holds no tenant models: channels builds one per Amazon vendor account
from the stored credentials and passes the shared cache and rate limiter::

    client = VendorApiClient(
        credentials=LwaCredentials(client_id=..., client_secret=..., refresh_token=...),
        endpoint=Endpoint(region=Region.EU),          # or Endpoint.local_sandbox(...)
        selling_partner_id=account.vendor_group_id,   # names the rate-limit buckets
        call_hook=record_api_call,                    # persists ApiCallRecord
    )
    for order in client.iter_purchase_orders(changed_after=since):
        ...
"""

from __future__ import annotations

import random
from collections.abc import Mapping

import requests

from vendor_api.endpoints import Endpoint
from vendor_api.errors import UnexpectedResponse
from vendor_api.limits import RateLimiter, UsagePlan, default_limiter, usage_plans_with
from vendor_api.lwa import AccessTokenProvider, LwaCredentials
from vendor_api.operations.invoices import InvoicesOperations
from vendor_api.operations.orders import OrdersOperations
from vendor_api.operations.reports import ReportsOperations
from vendor_api.operations.shipments import ShipmentsOperations
from vendor_api.operations.transactions import TransactionsOperations
from vendor_api.transport import ApiResponse, CallHook, RetryPolicy, SpApiTransport, Timeouts
from vendor_api.types import TransactionReceipt


class VendorApiClient(
    OrdersOperations,
    ShipmentsOperations,
    InvoicesOperations,
    TransactionsOperations,
    ReportsOperations,
):
    def __init__(
        self,
        *,
        credentials: LwaCredentials,
        endpoint: Endpoint,
        selling_partner_id: str,
        cache=None,
        limiter: RateLimiter | None = None,
        call_hook: CallHook | None = None,
        usage_plans: Mapping[str, UsagePlan] | None = None,
        retry_policy: RetryPolicy | None = None,
        timeouts: Timeouts | None = None,
        session: requests.Session | None = None,
        rng: random.Random | None = None,
    ):
        if cache is None:
            from django.core.cache import cache as default_cache

            cache = default_cache
        self.endpoint = endpoint
        self.selling_partner_id = selling_partner_id
        session = session or requests.Session()
        self.tokens = AccessTokenProvider(
            credentials=credentials, token_url=endpoint.lwa_token_url, cache=cache, session=session
        )
        self.transport = SpApiTransport(
            base_url=endpoint.api_base_url,
            tokens=self.tokens,
            limiter=limiter if limiter is not None else default_limiter(),
            usage_plans=usage_plans_with(usage_plans),
            region=str(endpoint.region),
            selling_partner_id=selling_partner_id,
            call_hook=call_hook,
            retry_policy=retry_policy,
            timeouts=timeouts,
            session=session,
            rng=rng,
        )

    def close(self) -> None:
        self.transport.session.close()

    def __enter__(self) -> VendorApiClient:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    @staticmethod
    def _transaction_receipt(response: ApiResponse) -> TransactionReceipt:
        payload = (response.body or {}).get("payload") or {}
        transaction_id = payload.get("transactionId")
        if not transaction_id:
            raise UnexpectedResponse(
                "Amazon accepted the submission but sent no transactionId.",
                status=response.status,
                request_id=response.request_id,
            )
        return TransactionReceipt(transaction_id=transaction_id, request_id=response.request_id)
