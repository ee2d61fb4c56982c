"""Reports 2021-06-30 for the vendor report types (reports_2021-06-30.json).

Flow: createReport -> poll getReport until DONE -> getReportDocument -> GET
the presigned URL (valid 5 minutes) and gunzip when compressionAlgorithm is
GZIP. Documents are JSON (schemas: vendor*Report.json).
"""

from __future__ import annotations

import datetime
import enum
import gzip
import json
from dataclasses import dataclass
from typing import Any

from vendor_api.errors import UnexpectedResponse
from vendor_api.types import format_datetime, parse_datetime, parse_enum


class VendorReportType(enum.StrEnum):
    FORECASTING = "GET_VENDOR_FORECASTING_REPORT"
    SALES = "GET_VENDOR_SALES_REPORT"
    INVENTORY = "GET_VENDOR_INVENTORY_REPORT"
    REAL_TIME_SALES = "GET_VENDOR_REAL_TIME_SALES_REPORT"
    REAL_TIME_INVENTORY = "GET_VENDOR_REAL_TIME_INVENTORY_REPORT"
    REAL_TIME_TRAFFIC = "GET_VENDOR_REAL_TIME_TRAFFIC_REPORT"


class ProcessingStatus(enum.StrEnum):
    IN_QUEUE = "IN_QUEUE"
    IN_PROGRESS = "IN_PROGRESS"
    DONE = "DONE"
    CANCELLED = "CANCELLED"
    FATAL = "FATAL"


@dataclass(frozen=True)
class Report:
    report_id: str
    report_type: VendorReportType | str | None
    processing_status: ProcessingStatus | str | None
    created_time: datetime.datetime | None
    data_start_time: datetime.datetime | None
    data_end_time: datetime.datetime | None
    processing_start_time: datetime.datetime | None
    processing_end_time: datetime.datetime | None
    report_document_id: str | None
    marketplace_ids: tuple[str, ...]

    @property
    def finished(self) -> bool:
        return self.processing_status in (
            ProcessingStatus.DONE, ProcessingStatus.CANCELLED, ProcessingStatus.FATAL
        )

    @classmethod
    def parse(cls, raw: dict) -> Report:
        return cls(
            report_id=raw.get("reportId", ""),
            report_type=parse_enum(VendorReportType, raw.get("reportType")),
            processing_status=parse_enum(ProcessingStatus, raw.get("processingStatus")),
            created_time=parse_datetime(raw.get("createdTime")),
            data_start_time=parse_datetime(raw.get("dataStartTime")),
            data_end_time=parse_datetime(raw.get("dataEndTime")),
            processing_start_time=parse_datetime(raw.get("processingStartTime")),
            processing_end_time=parse_datetime(raw.get("processingEndTime")),
            report_document_id=raw.get("reportDocumentId"),
            marketplace_ids=tuple(raw.get("marketplaceIds") or ()),
        )


@dataclass(frozen=True)
class ReportDocumentLocation:
    report_document_id: str
    url: str
    compression_algorithm: str | None


def create_report_body(
    *,
    report_type: VendorReportType,
    marketplace_ids: list[str],
    data_start_time: datetime.datetime | None = None,
    data_end_time: datetime.datetime | None = None,
    report_options: dict[str, str] | None = None,
) -> dict:
    body: dict[str, Any] = {
        "reportType": VendorReportType(report_type).value,
        "marketplaceIds": list(marketplace_ids),
    }
    if data_start_time:
        body["dataStartTime"] = format_datetime(data_start_time)
    if data_end_time:
        body["dataEndTime"] = format_datetime(data_end_time)
    if report_options:
        body["reportOptions"] = dict(report_options)
    return body


class ReportsOperations:
    def create_report(
        self,
        *,
        report_type: VendorReportType,
        marketplace_ids: list[str],
        data_start_time: datetime.datetime | None = None,
        data_end_time: datetime.datetime | None = None,
        report_options: dict[str, str] | None = None,
    ) -> str:
        """Request a report; returns its reportId."""
        response = self.transport.call(
            operation="createReport", method="POST", path="/reports/2021-06-30/reports",
            body=create_report_body(
                report_type=report_type, marketplace_ids=marketplace_ids,
                data_start_time=data_start_time, data_end_time=data_end_time,
                report_options=report_options,
            ),
        )
        report_id = (response.body or {}).get("reportId")
        if not report_id:
            raise UnexpectedResponse(
                "createReport answered without a reportId.",
                operation="createReport", status=response.status, request_id=response.request_id,
            )
        return report_id

    def get_report(self, *, report_id: str) -> Report:
        response = self.transport.call(
            operation="getReport", method="GET", path=f"/reports/2021-06-30/reports/{report_id}"
        )
        return Report.parse(response.body or {})

    def get_report_document(self, *, report_document_id: str) -> ReportDocumentLocation:
        response = self.transport.call(
            operation="getReportDocument", method="GET",
            path=f"/reports/2021-06-30/documents/{report_document_id}",
        )
        body = response.body or {}
        return ReportDocumentLocation(
            report_document_id=body.get("reportDocumentId", report_document_id),
            url=body.get("url", ""),
            compression_algorithm=body.get("compressionAlgorithm"),
        )

    def download_report_document(self, *, location: ReportDocumentLocation) -> Any:
        """Fetch the document now (the URL expires in 5 minutes) and parse its JSON."""
        content = self.transport.download(url=location.url)
        if (location.compression_algorithm or "").upper() == "GZIP":
            content = gzip.decompress(content)
        try:
            return json.loads(content)
        except ValueError as error:
            raise UnexpectedResponse(
                "The report document is not JSON.", operation="getReportDocument"
            ) from error

    def fetch_report_document(self, *, report_document_id: str) -> Any:
        location = self.get_report_document(report_document_id=report_document_id)
        return self.download_report_document(location=location)
