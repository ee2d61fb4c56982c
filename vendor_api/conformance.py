"""Validation of SP-API requests and responses against Amazon's models.

The models (``shared/spapi-models``) are Swagger 2.0 files: JSON Schema
draft 4 plus a few extensions. ``$ref`` points into each file's
``definitions``, so one validator per file carries them as its root; query
parameters are strings on the wire and are coerced to the declared type
first. ``Decimal`` is declared ``type: string`` and stays a string.

Test tooling only: every request the client sends and every response the
sandbox serves are checked against the official models here. Nothing the
product runs imports this module's loaders (the models live outside the
repository); at run time requests are checked with ``vendor_api.contracts``.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jsonschema import Draft4Validator, Draft7Validator

from vendor_api import contracts

API_MODEL_FILES = (
    "vendorOrders.json",
    "vendorShipments.json",
    "vendorInvoices.json",
    "vendorTransactionStatus.json",
    "reports_2021-06-30.json",
)
REPORT_DOCUMENT_MODEL_FILES = {
    "GET_VENDOR_FORECASTING_REPORT": "vendorForecastingReport.json",
    "GET_VENDOR_SALES_REPORT": "vendorSalesReport.json",
    "GET_VENDOR_INVENTORY_REPORT": "vendorInventoryReport.json",
    "GET_VENDOR_REAL_TIME_SALES_REPORT": "vendorRealTimeSalesReport.json",
    "GET_VENDOR_REAL_TIME_INVENTORY_REPORT": "vendorRealTimeInventoryReport.json",
    "GET_VENDOR_REAL_TIME_TRAFFIC_REPORT": "vendorRealTimeTrafficReport.json",
}
# The two spellings of the official static sandbox (see spapi-vendor.md 6).
SANDBOX_EXTENSION_KEYS = ("x-amzn-api-sandbox", "x-amazon-spds-sandbox-behaviors")


class ModelsNotFound(RuntimeError):
    pass


def models_dir() -> Path:
    """The Amazon models folder: the setting, the env, else ``shared/`` near BASE_DIR.

    CI clones the repo next to ``shared/``, so walking up from BASE_DIR and
    looking for a sibling ``shared/spapi-models`` finds it in every layout.
    """
    from django.conf import settings

    configured = None
    if settings.configured:
        configured = getattr(settings, "ACORN_SPAPI_MODELS_DIR", None)
    if configured:
        return Path(configured)
    start = Path(__file__).resolve().parent
    if settings.configured and getattr(settings, "BASE_DIR", None):
        start = Path(settings.BASE_DIR).resolve()
    for folder in (start, *start.parents):
        candidate = folder / "shared" / "spapi-models"
        if candidate.is_dir():
            return candidate
    raise ModelsNotFound(
        "SP-API models not found: set ACORN_SPAPI_MODELS_DIR or put shared/spapi-models "
        "next to the repository."
    )


# One format checker for the tests' checks and the product's contracts, so
# both read "date-time" alike.
format_checker = contracts.format_checker


@dataclass(frozen=True)
class OperationModel:
    operation_id: str
    method: str
    path: str
    model_file: str
    spec: dict
    parameters: tuple[dict, ...]


@functools.cache
def _load(model_file: str) -> dict:
    return json.loads((models_dir() / model_file).read_text())


@functools.cache
def operations() -> dict[str, OperationModel]:
    found: dict[str, OperationModel] = {}
    for model_file in API_MODEL_FILES:
        model = _load(model_file)
        for path, methods in model["paths"].items():
            shared_parameters = methods.get("parameters", [])
            for method, spec in methods.items():
                if method == "parameters":
                    continue
                found[spec["operationId"]] = OperationModel(
                    operation_id=spec["operationId"],
                    method=method.upper(),
                    path=path,
                    model_file=model_file,
                    spec=spec,
                    parameters=tuple(shared_parameters) + tuple(spec.get("parameters", [])),
                )
    return found


def operation_model(operation_id: str) -> OperationModel:
    try:
        return operations()[operation_id]
    except KeyError:
        raise KeyError(f"No SP-API operation {operation_id!r} in the models.") from None


def _strip_extensions(node: Any) -> Any:
    if isinstance(node, dict):
        return {
            key: _strip_extensions(value)
            for key, value in node.items()
            if not key.startswith("x-") and key != "example"
        }
    if isinstance(node, list):
        return [_strip_extensions(value) for value in node]
    return node


@functools.cache
def _definitions(model_file: str) -> dict:
    return _strip_extensions(_load(model_file).get("definitions", {}))


def _validator_for(model_file: str, schema: dict) -> Draft4Validator:
    root = {"definitions": _definitions(model_file), "allOf": [_strip_extensions(schema)]}
    return Draft4Validator(root, format_checker=format_checker)


@functools.cache
def _body_validator(operation_id: str) -> Draft4Validator | None:
    op = operation_model(operation_id)
    for parameter in op.parameters:
        if parameter.get("in") == "body":
            return _validator_for(op.model_file, parameter["schema"])
    return None


@functools.cache
def _response_validator(operation_id: str, status: int) -> Draft4Validator | None:
    op = operation_model(operation_id)
    response = op.spec.get("responses", {}).get(str(status))
    if not response or "schema" not in response:
        return None
    return _validator_for(op.model_file, response["schema"])


def _messages(validator: Draft4Validator | Draft7Validator, instance: Any, where: str) -> list[str]:
    return contracts.problems_of(validator, instance, where)


def validate_request(
    *,
    operation_id: str,
    query: Mapping[str, Any] | None = None,
    path_params: Mapping[str, str] | None = None,
    body: Any = None,
) -> list[str]:
    """Problems with one request, empty when it conforms to the model."""
    op = operation_model(operation_id)
    query = dict(query or {})
    path_params = dict(path_params or {})
    problems: list[str] = []
    known_query = set()
    for parameter in op.parameters:
        location = parameter.get("in")
        name = parameter.get("name")
        if location == "body":
            if body is None:
                if parameter.get("required"):
                    problems.append("body: a JSON body is required")
                continue
            problems += _messages(_body_validator(operation_id), body, "body")
            continue
        if location == "query":
            known_query.add(name)
            source = query
        elif location == "path":
            source = path_params
        else:
            continue
        if name not in source or source[name] in (None, ""):
            if parameter.get("required"):
                problems.append(f"{location} parameter {name!r} is required")
            continue
        schema = contracts.parameter_schema(parameter)
        value = contracts.coerce_parameter(parameter, source[name])
        problems += _messages(
            Draft4Validator(schema, format_checker=format_checker), value, f"{location}.{name}"
        )
    # Amazon ignores unknown query parameters (and so does the sandbox),
    # but ACORN's own client should send only documented ones.
    unknown = sorted(set(query) - known_query)
    if unknown:
        problems.append(f"query: unknown parameters {', '.join(unknown)}")
    return problems


def validate_response(*, operation_id: str, status: int, body: Any) -> list[str]:
    """Problems with one response body; unknown statuses must at least be JSON."""
    validator = _response_validator(operation_id, status)
    if validator is None:
        return []
    return _messages(validator, body, f"{operation_id} {status}")


@functools.cache
def _report_validator(report_type: str) -> Draft7Validator:
    schema = _strip_extensions(_load(REPORT_DOCUMENT_MODEL_FILES[report_type]))
    return Draft7Validator(schema, format_checker=format_checker)


def validate_report_document(*, report_type: str, document: Any) -> list[str]:
    return _messages(_report_validator(report_type), document, report_type)


def usage_plan_tables() -> dict[str, tuple[float, int]]:
    """(rate, burst) per operation, read from each description's Usage Plan table."""
    plans = {}
    for operation_id, op in operations().items():
        description = op.spec.get("description", "")
        lines = [line.strip() for line in description.splitlines()]
        for index, line in enumerate(lines):
            if line.startswith("| Rate (requests per second)") and index + 2 < len(lines):
                cells = [cell.strip() for cell in lines[index + 2].strip("|").split("|")]
                plans[operation_id] = (float(cells[0]), int(cells[1]))
                break
    return plans


@dataclass(frozen=True)
class SandboxExample:
    operation_id: str
    status: int
    parameters: dict
    response: Any

    @property
    def label(self) -> str:
        parameters = json.dumps(self.parameters, sort_keys=True)[:60]
        return f"{self.operation_id}-{self.status}-{parameters}"


def sandbox_examples() -> Iterator[SandboxExample]:
    """Every official static sandbox request/response pair of the API models."""
    for operation_id, op in operations().items():
        for status, response in op.spec.get("responses", {}).items():
            cases = []
            sandbox = response.get("x-amzn-api-sandbox")
            if sandbox:
                cases += sandbox.get("static", []) + sandbox.get("dynamic", [])
            cases += response.get("x-amazon-spds-sandbox-behaviors", [])
            for case in cases:
                request = case.get("request", {})
                yield SandboxExample(
                    operation_id=operation_id,
                    status=int(status),
                    parameters=request.get("parameters", {}),
                    response=case.get("response"),
                )
