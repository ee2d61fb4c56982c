"""Write the request contracts (``vendor_api/contracts/*.json``) from Amazon's models.

A developer's tool, never run by the product: it reads the official SP-API
models (``ACORN_SPAPI_MODELS_DIR`` or ``shared/spapi-models``) and keeps,
for each operation ACORN calls or the sandbox serves, its method, path,
parameters and the body definitions they reach, without descriptions,
examples or ``x-`` extensions. Run it when Amazon publishes a new model::

    python -m vendor_api.contracts.generate

``vendor_api/tests/test_contracts.py`` regenerates in memory and fails when
the committed files drift from the models.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from acorn.env import settings_module_default
from vendor_api import conformance
from vendor_api.contracts import CONTRACTS_DIR, FAMILY_OPERATIONS

# Which official model file each family comes from (mirrors operations/).
FAMILY_MODEL_FILES = {
    "orders": "vendorOrders.json",
    "shipments": "vendorShipments.json",
    "invoices": "vendorInvoices.json",
    "transactions": "vendorTransactionStatus.json",
    "reports": "reports_2021-06-30.json",
}
DROPPED_KEYS = frozenset({"description", "example", "examples", "title"})


def _strip(node: Any, *, names: bool = False) -> Any:
    """``node`` without documentation keywords; ``names`` marks a
    ``properties``/``definitions`` map, whose keys are names to keep (a
    charge has a property called ``description``)."""
    if isinstance(node, dict):
        if names:
            return {key: _strip(value) for key, value in node.items()}
        return {
            key: _strip(value, names=key in ("properties", "definitions"))
            for key, value in node.items()
            if key not in DROPPED_KEYS and not key.startswith("x-")
        }
    if isinstance(node, list):
        return [_strip(value) for value in node]
    return node


def _references(node: Any, found: set[str], definitions: dict) -> None:
    if isinstance(node, dict):
        reference = node.get("$ref")
        if isinstance(reference, str) and reference.startswith("#/definitions/"):
            name = reference.rsplit("/", 1)[1]
            if name not in found:
                found.add(name)
                _references(definitions[name], found, definitions)
        for value in node.values():
            _references(value, found, definitions)
    elif isinstance(node, list):
        for value in node:
            _references(value, found, definitions)


def family_contract(family: str) -> dict:
    """The contract of one family, as the committed JSON file holds it."""

    model_file = FAMILY_MODEL_FILES[family]
    model = json.loads((conformance.models_dir() / model_file).read_text())
    definitions = model.get("definitions", {})
    wanted = set(FAMILY_OPERATIONS[family])
    operations: dict[str, dict] = {}
    for path, methods in model["paths"].items():
        shared = methods.get("parameters", [])
        for method, spec in methods.items():
            if method == "parameters" or spec.get("operationId") not in wanted:
                continue
            operations[spec["operationId"]] = {
                "method": method.upper(),
                "path": path,
                "parameters": _strip(list(shared) + list(spec.get("parameters", []))),
            }
    missing = wanted - set(operations)
    if missing:
        raise KeyError(f"{model_file} has no operation {sorted(missing)}")
    reached: set[str] = set()
    _references([op["parameters"] for op in operations.values()], reached, definitions)
    return {
        "source": f"Amazon SP-API model {model_file} (Apache-2.0, see NOTICE)",
        "operations": dict(sorted(operations.items())),
        "definitions": {name: _strip(definitions[name]) for name in sorted(reached)},
    }


def render(contract: dict) -> str:
    return json.dumps(contract, indent=1, sort_keys=True, ensure_ascii=False) + "\n"


def main() -> None:
    settings_module_default("acorn.settings.local")
    import django

    django.setup()
    for family in FAMILY_OPERATIONS:
        target = Path(CONTRACTS_DIR) / f"{family}.json"
        target.write_text(render(family_contract(family)))
        print(f"wrote {target}")  # noqa: T201 (a developer's command)


if __name__ == "__main__":
    main()
