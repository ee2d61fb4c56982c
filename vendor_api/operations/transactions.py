"""Vendor Transaction Status v1: getTransaction (vendorTransactionStatus.json)."""

from __future__ import annotations

import enum
from dataclasses import dataclass

from vendor_api.errors import ApiErrorDetail
from vendor_api.types import parse_enum


class TransactionStatus(enum.StrEnum):
    PROCESSING = "Processing"
    SUCCESS = "Success"
    FAILURE = "Failure"


@dataclass(frozen=True)
class Transaction:
    transaction_id: str
    status: TransactionStatus | str | None
    errors: tuple[ApiErrorDetail, ...]

    @property
    def finished(self) -> bool:
        return self.status in (TransactionStatus.SUCCESS, TransactionStatus.FAILURE)

    @classmethod
    def parse(cls, raw: dict) -> Transaction:
        return cls(
            transaction_id=raw.get("transactionId", ""),
            status=parse_enum(TransactionStatus, raw.get("status")),
            errors=tuple(ApiErrorDetail.from_json(item) for item in raw.get("errors") or []),
        )


class TransactionsOperations:
    def get_transaction(self, *, transaction_id: str) -> Transaction:
        """The processing state of a POST; Failure carries Amazon's business errors."""
        response = self.transport.call(
            operation="getTransaction", method="GET",
            path=f"/vendor/transactions/v1/transactions/{transaction_id}",
        )
        payload = (response.body or {}).get("payload") or {}
        return Transaction.parse(payload.get("transactionStatus") or {})
