"""What Amazon accepts, carried by the repository: request contracts.

The product validates every request body before it leaves (and the
sandbox validates every request it receives) with these files, never with
``../shared`` (which a clone of the public repository does not have).

Each ``<family>.json`` (mirroring ``operations/``) holds, for the SP-API
operations ACORN calls, the method, the path, the parameters and the JSON
Schema definitions their bodies reach, taken from Amazon's official models
(Apache-2.0; see ``NOTICE``) by ``python -m vendor_api.contracts.generate``
without descriptions, examples and ``x-`` extensions. A test regenerates
them from the official models and fails on drift, and a Hypothesis battery
proves they accept and refuse what the official models do.

Why this rather than Amazon's Python SDK (``amzn-sp-api``): the SDK is
21 MB installed for every SP-API family, its generated models check only
required fields and enums (no types, lengths, patterns or formats, and its
deserialiser coerces ``"5"`` into an integer Amazon refuses), and its
date parsing needs ``python-dateutil``, which it does not declare.
Here the engine is ``jsonschema`` (already a dependency) over 40 KB of
JSON that agrees with Amazon's models by construction.

Messages read like ``body/acknowledgements/0/items: [] is too short`` and
``query.limit: 0 is less than the minimum of 1``. Unknown query parameters
are ignored, as Amazon ignores them (third-party clients send
``MarketplaceIds`` on every call).
"""

from __future__ import annotations

import datetime
import functools
import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jsonschema import Draft4Validator, FormatChecker

CONTRACTS_DIR = Path(__file__).resolve().parent

# The operations ACORN's client calls and its sandbox serves, per family.
FAMILY_OPERATIONS: dict[str, tuple[str, ...]] = {
    "orders": (
        "getPurchaseOrders", "getPurchaseOrder", "submitAcknowledgement",
        "getPurchaseOrdersStatus",
    ),
    "shipments": (
        "SubmitShipmentConfirmations", "SubmitShipments", "GetShipmentDetails",
        "GetShipmentLabels",
    ),
    "invoices": ("submitInvoices",),
    "transactions": ("getTransaction",),
    "reports": ("createReport", "getReport", "getReportDocument"),
}

# Swagger 2.0 parameter keys that are JSON Schema keywords.
_PARAMETER_SCHEMA_KEYS = (
    "type", "enum", "format", "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum",
    "minLength", "maxLength", "pattern", "items", "minItems", "maxItems", "uniqueItems",
)

format_checker = FormatChecker(formats=())


@format_checker.checks("date-time", raises=ValueError)
def _is_date_time(value: object) -> bool:
    if not isinstance(value, str):
        return True
    if "T" not in value:
        raise ValueError("a date-time needs a 'T' between date and time")
    datetime.datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00"))
    return True


@format_checker.checks("date", raises=ValueError)
def _is_date(value: object) -> bool:
    if isinstance(value, str):
        datetime.date.fromisoformat(value)
    return True


@dataclass(frozen=True)
class OperationContract:
    operation_id: str
    family: str
    method: str
    path: str
    parameters: tuple[dict, ...]


@functools.cache
def _family(family: str) -> dict:
    return json.loads((CONTRACTS_DIR / f"{family}.json").read_text())


@functools.cache
def contracts() -> dict[str, OperationContract]:
    found = {}
    for family in FAMILY_OPERATIONS:
        for operation_id, spec in _family(family)["operations"].items():
            found[operation_id] = OperationContract(
                operation_id=operation_id, family=family, method=spec["method"],
                path=spec["path"], parameters=tuple(spec["parameters"]),
            )
    return found


def contract(operation_id: str) -> OperationContract:
    try:
        return contracts()[operation_id]
    except KeyError:
        raise KeyError(f"No request contract for SP-API operation {operation_id!r}.") from None


@functools.cache
def _body_validator(operation_id: str) -> Draft4Validator | None:
    op = contract(operation_id)
    for parameter in op.parameters:
        if parameter.get("in") == "body":
            root = {"definitions": _family(op.family)["definitions"],
                    "allOf": [parameter["schema"]]}
            return Draft4Validator(root, format_checker=format_checker)
    return None


def problems_of(validator: Draft4Validator, instance: Any, where: str) -> list[str]:
    """Each schema error as ``where/json/path: message``, in document order."""
    problems = []
    for error in validator.iter_errors(instance):
        location = "/".join(str(part) for part in error.absolute_path)
        problems.append(((list(map(str, error.absolute_path)), error.message),
                         f"{where}{'/' + location if location else ''}: {error.message}"))
    # By place in the document, then by message: the same order whatever
    # the order of the schema's keys.
    return [text for _key, text in sorted(problems)]


def coerce_parameter(parameter: dict, raw: str | list[str]) -> Any:
    """A query or path value (text on the wire) as the declared type, when it is one."""
    kind = parameter.get("type")
    if kind == "array":
        values = raw if isinstance(raw, list) else str(raw).split(",")
        return [coerce_parameter(parameter.get("items", {}), value) for value in values]
    if isinstance(raw, list):
        raw = raw[-1]
    if kind == "integer":
        try:
            return int(raw)
        except ValueError:
            return raw
    if kind == "number":
        try:
            return float(raw)
        except ValueError:
            return raw
    if kind == "boolean":
        return {"true": True, "false": False}.get(str(raw).lower(), raw)
    return raw


def parameter_schema(parameter: dict) -> dict:
    schema = {key: parameter[key] for key in _PARAMETER_SCHEMA_KEYS if key in parameter}
    if schema.get("type") == "string" and schema.get("format") == "boolean":
        # Swagger's string/boolean: Amazon expects "true"/"false".
        schema = {"type": "string", "enum": ["true", "false"]}
    return schema


def body_problems(*, operation_id: str, body: Any) -> list[str]:
    """Problems of one request body (empty when Amazon's model accepts it)."""
    validator = _body_validator(operation_id)
    if validator is None:
        return []
    return problems_of(validator, body, "body")


def request_problems(
    *,
    operation_id: str,
    query: Mapping[str, Any] | None = None,
    path_params: Mapping[str, str] | None = None,
    body: Any = None,
) -> list[str]:
    """Problems of one request, as Amazon would answer 400 InvalidInput.

    Documented query and path parameters are checked (required, type,
    range, enum, format); parameters the model does not name are ignored,
    as Amazon ignores them.
    """
    op = contract(operation_id)
    query = dict(query or {})
    path_params = dict(path_params or {})
    problems: list[str] = []
    for parameter in op.parameters:
        location = parameter.get("in")
        name = parameter.get("name")
        if location == "body":
            if body is None:
                if parameter.get("required"):
                    problems.append("body: a JSON body is required")
                continue
            problems += body_problems(operation_id=operation_id, body=body)
            continue
        source = {"query": query, "path": path_params}.get(location)
        if source is None:
            continue
        if name not in source or source[name] in (None, ""):
            if parameter.get("required"):
                problems.append(f"{location} parameter {name!r} is required")
            continue
        value = coerce_parameter(parameter, source[name])
        problems += problems_of(
            Draft4Validator(parameter_schema(parameter), format_checker=format_checker),
            value, f"{location}.{name}",
        )
    return problems
