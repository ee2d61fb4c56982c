"""Hypothesis battery: SP-API payloads generated from Amazon's official
schemas, then mutated (a required field dropped, an enum or a format
broken, a wrong type, an over-long string).

For every payload, the official model, the repository's contracts (what the
product and the sandbox check with at run time) and the sandbox over HTTP
give one verdict: accepted, or refused with 400 InvalidInput. The sandbox
never answers 500, and every body it serves conforms to the models.

Sized for CI: ``ACORN_HYPOTHESIS_EXAMPLES`` examples per operation and
kind (default 25, a few seconds each); set it to e.g. 2000 for a long run.

Why a generator of our own rather than ``hypothesis-jsonschema``: its last
release (0.23.1, February 2024) uses Hypothesis internals that current
Hypothesis removed, and fails on the first object schema. The models use
a small Draft 4 subset (type, properties, required, enum, items, format
date-time, maxLength, one pattern, $ref), which ``schema_strategy`` covers.
"""

from __future__ import annotations

import datetime
import json
import os

import pytest
import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from channels.services.submissions import DOCUMENT_OPERATIONS, submission_payload_problems
from vendor_api import conformance, contracts
from vendor_api.sandbox.testing import running_sandbox

EXAMPLES = int(os.environ.get("ACORN_HYPOTHESIS_EXAMPLES", "25"))
# The POSTs the product sends (acknowledgements, ASNs, invoices), by path.
SENT_OPERATIONS = {
    operation.operation_id: (document_type, operation.path)
    for document_type, operation in DOCUMENT_OPERATIONS.items()
}
BATTERY_SETTINGS = settings(
    max_examples=EXAMPLES, deadline=None, derandomize=not os.environ.get("CI_RANDOM"),
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                           HealthCheck.filter_too_much],
)


def official_body_schema(operation_id: str) -> tuple[dict, dict]:
    """(body schema, definitions) of the official model."""
    op = conformance.operation_model(operation_id)
    (body,) = [p for p in op.parameters if p.get("in") == "body"]
    return body["schema"], conformance._definitions(op.model_file)


# Hypothesis takes naive bounds and adds the zone itself.
DATE_TIMES = st.datetimes(
    min_value=datetime.datetime(2020, 1, 1),  # noqa: DTZ001
    max_value=datetime.datetime(2030, 12, 31),  # noqa: DTZ001
    timezones=st.just(datetime.UTC),
).map(lambda value: value.isoformat(timespec="seconds").replace("+00:00", "Z"))
KNOWN_KEYWORDS = {"type", "$ref", "properties", "required", "enum", "items", "format",
                  "maxLength", "pattern"}
DOCUMENTATION_KEYWORDS = {"description", "example", "title"}


def schema_strategy(schema: dict, definitions: dict) -> st.SearchStrategy:
    """Documents valid against ``schema`` (the models' Draft 4 subset)."""
    unknown = {key for key in set(schema) - KNOWN_KEYWORDS
               if key not in DOCUMENTATION_KEYWORDS and not key.startswith("x-")}
    assert not unknown, f"schema_strategy does not know {unknown}"
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[1]
        return st.deferred(lambda: schema_strategy(definitions[name], definitions))
    if "enum" in schema:
        return st.sampled_from(schema["enum"])
    kind = schema.get("type", "object")
    if kind == "string":
        if schema.get("format") == "date-time":
            return DATE_TIMES
        if "pattern" in schema:
            return st.from_regex(schema["pattern"], fullmatch=True)
        return st.text(max_size=min(schema.get("maxLength", 12), 12))
    if kind == "integer":
        return st.integers(-10**6, 10**6)
    if kind == "number":
        return st.floats(allow_nan=False, allow_infinity=False, width=32)
    if kind == "boolean":
        return st.booleans()
    if kind == "array":
        return st.lists(schema_strategy(schema.get("items", {}), definitions), max_size=2)
    properties = schema.get("properties", {})
    required = set(schema.get("required", ()))
    return st.fixed_dictionaries(
        {name: schema_strategy(properties[name], definitions) for name in sorted(required)},
        optional={name: schema_strategy(sub, definitions)
                  for name, sub in sorted(properties.items()) if name not in required},
    )


# The sandbox's seeded POs (running_sandbox's seed): payloads that name
# them reach the handlers' business checks, not only "no such PO".
SANDBOX_PURCHASE_ORDERS = 5


@st.composite
def aimed_at_the_sandbox(draw, valid: st.SearchStrategy, numbers: list[str]):
    """A valid document whose PO numbers, vendor and line numbers are,
    more often than not, ones the sandbox knows."""
    document = draw(valid)

    def steer(node, key=None, parent=None):
        if isinstance(node, dict):
            for name, value in list(node.items()):
                node[name] = steer(value, name, key)
            return node
        if isinstance(node, list):
            return [steer(value, key, parent) for value in node]
        if not draw(st.integers(0, 3)):
            return node
        if key == "purchaseOrderNumber" and isinstance(node, str):
            return draw(st.sampled_from(numbers))
        if key == "partyId" and parent == "sellingParty":
            return "DEMO1"
        if key in ("itemSequenceNumber", "itemReference"):
            line = draw(st.integers(1, 3))
            return str(line) if isinstance(node, str) else line
        return node

    return steer(document)


def official_payloads(operation_id: str, numbers: list[str]) -> st.SearchStrategy:
    schema, definitions = official_body_schema(operation_id)
    return aimed_at_the_sandbox(schema_strategy(schema, definitions), numbers)


def _paths(node, prefix=()):
    """Every (path, value) in a JSON document, the root included."""
    yield prefix, node
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _paths(value, (*prefix, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _paths(value, (*prefix, index))


def _replace(document, path, value):
    if not path:
        return value
    copy = json.loads(json.dumps(document))
    parent = copy
    for part in path[:-1]:
        parent = parent[part]
    if value is _DELETE:
        del parent[path[-1]]
    else:
        parent[path[-1]] = value
    return copy


_DELETE = object()
WRONG_VALUES = st.one_of(
    st.none(), st.booleans(), st.integers(-10**12, 10**12), st.just("5"), st.just(""),
    st.text(max_size=12), st.just([]), st.just({}), st.just("2026-13-45T99:99:99Z"),
    st.just("Accepted "), st.sampled_from(["X" * 4, "X" * 51, "X" * 301, "X" * 5001]),
)


@st.composite
def mutated(draw, valid: st.SearchStrategy):
    """A valid document with one change somewhere in it."""
    document = draw(valid)
    paths = list(_paths(document))
    path, _value = draw(st.sampled_from(paths))
    if path and isinstance(path[-1], str) and draw(st.booleans()):
        return _replace(document, path, _DELETE)
    return _replace(document, path, draw(WRONG_VALUES))


@pytest.fixture(scope="module")
def amazon():
    """One sandbox for the battery, with its rate limits out of the way."""
    with running_sandbox(purchase_orders=SANDBOX_PURCHASE_ORDERS) as handle:
        handle.numbers = sorted(handle.state.orders)
        limits = {op: {"rate": 10_000, "burst": 10_000} for op in SENT_OPERATIONS}
        handle.control("POST", "/_sandbox/scenario", {"rate_limits": limits})
        token = requests.post(f"{handle.base_url}/auth/o2/token", data={
            "grant_type": "refresh_token", "refresh_token": handle.credentials.refresh_token,
            "client_id": handle.credentials.client_id,
            "client_secret": handle.credentials.client_secret,
        }, timeout=10).json()["access_token"]
        session = requests.Session()
        session.headers.update({"x-amz-access-token": token,
                                "content-type": "application/json"})
        handle.session = session
        yield handle
        problems = handle.state.conformance_problems
        assert problems == [], f"sandbox served non-conforming responses: {problems[:5]}"
        session.close()


def _agree(amazon, operation_id: str, payload) -> bool:
    """The three verdicts on one payload agree; returns the verdict."""
    document_type, path = SENT_OPERATIONS[operation_id]
    official = conformance.validate_request(operation_id=operation_id, body=payload)
    carried = contracts.request_problems(operation_id=operation_id, body=payload)
    assert carried == official, (payload, official, carried)
    if isinstance(payload, dict):
        assert submission_payload_problems(document_type=document_type,
                                           payload=payload) == official
    answer = amazon.session.post(amazon.base_url + path, data=json.dumps(payload), timeout=30)
    assert answer.status_code != 500, (payload, answer.text)
    if official:
        assert answer.status_code == 400, (payload, official, answer.text)
        (error,) = answer.json()["errors"]
        assert error["code"] == "InvalidInput"
        assert error["message"].startswith(official[0][:500])
    else:
        assert answer.status_code == 202, (payload, answer.text)
        assert answer.json()["payload"]["transactionId"]
    return not official


@pytest.mark.parametrize("operation_id", sorted(SENT_OPERATIONS))
def test_valid_payloads_from_the_official_schema_are_accepted_everywhere(amazon, operation_id):
    valid = official_payloads(operation_id, amazon.numbers)

    @BATTERY_SETTINGS
    @given(payload=valid)
    def check(payload):
        assert _agree(amazon, operation_id, payload)

    check()


@pytest.mark.parametrize("operation_id", sorted(SENT_OPERATIONS))
def test_mutated_payloads_get_one_verdict_everywhere(amazon, operation_id):
    verdicts = []
    valid = official_payloads(operation_id, amazon.numbers)

    @BATTERY_SETTINGS
    @given(payload=mutated(valid))
    def check(payload):
        verdicts.append(_agree(amazon, operation_id, payload))

    check()
    # The mutations do break payloads (the battery is not all "accepted").
    assert verdicts.count(False) >= len(verdicts) // 4, verdicts
