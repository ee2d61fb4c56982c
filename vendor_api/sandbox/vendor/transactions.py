"""Sandbox Vendor Transaction Status: getTransaction (mirrors operations/transactions.py)."""

from __future__ import annotations

from vendor_api.sandbox.server import SandboxRequest, SandboxResponse, error_response
from vendor_api.sandbox.state import Grant, SandboxState


def get_transaction(request: SandboxRequest, grant: Grant, state: SandboxState):
    transaction = state.transaction_status(request.path_params["transactionId"])
    if transaction is None:
        return error_response(404, "NotFound", "The transaction was not found.")
    status: dict = {"transactionId": transaction.transaction_id, "status": transaction.status}
    if transaction.status == "Failure":
        status["errors"] = transaction.errors
    return SandboxResponse(status=200, body={"payload": {"transactionStatus": status}})
