"""Sandbox Reports 2021-06-30: createReport, getReport, getReportDocument and
the presigned document download (mirrors operations/reports.py)."""

from __future__ import annotations

from vendor_api.operations.reports import VendorReportType
from vendor_api.sandbox import reports as report_documents
from vendor_api.sandbox.server import SandboxRequest, SandboxResponse, error_response
from vendor_api.sandbox.state import Grant, SandboxState
from vendor_api.sandbox.vendor.common import bad_request

# The vendor reports whose documents the sandbox computes.
SANDBOX_REPORT_TYPES = frozenset(VendorReportType)


def create_report(request: SandboxRequest, grant: Grant, state: SandboxState):
    body = request.json()
    if body["reportType"] not in SANDBOX_REPORT_TYPES:
        return bad_request(f"Report type {body['reportType']} is not available in the sandbox.")
    report = report_documents.create(state=state, grant=grant, specification=body)
    return SandboxResponse(status=202, body={"reportId": report["reportId"]})


def get_report(request: SandboxRequest, grant: Grant, state: SandboxState):
    report = report_documents.current(state=state, report_id=request.path_params["reportId"])
    if report is None:
        return error_response(404, "NotFound", "The report was not found.")
    return SandboxResponse(status=200, body=report)


def get_report_document(request: SandboxRequest, grant: Grant, state: SandboxState):
    document_id = request.path_params["reportDocumentId"]
    if document_id not in state.documents:
        return error_response(404, "NotFound", "The report document was not found.")
    return SandboxResponse(status=200, body={
        "reportDocumentId": document_id,
        "url": f"{request.base_url}/_sandbox/documents/{document_id}",
        "compressionAlgorithm": "GZIP",
    })


def download_document(request: SandboxRequest) -> SandboxResponse:
    """The presigned document URL: no token, like S3."""
    content = request.router.state.documents.get(request.path_params["documentId"])
    if content is None:
        return error_response(404, "NotFound", "No such document.")
    return SandboxResponse(status=200, body=content, content_type="application/octet-stream")
