"""The API battery (issue 9): schemathesis against the live API with two
tenants' keys and seeded data, every check, every phase; 0 failures. And
each tenant's key never sees the other tenant's ids.

Sized for CI on 2 cores: a bounded number of examples per operation and a
hard time budget per run (``BATTERY_BUDGET_SECONDS``); ``make soak`` may
raise ``ACORN_SCHEMATHESIS_EXAMPLES``.
"""

from __future__ import annotations

import json
import logging
import subprocess
import sys
from pathlib import Path

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from acorn.env import env, env_int
from tests.api_world import seed_api_world
from vendor_api.sandbox.testing import running_sandbox

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]
logger = logging.getLogger(__name__)

EXAMPLES_PER_OPERATION = env_int("ACORN_SCHEMATHESIS_EXAMPLES", 10)
# Per run; the coverage phase (every parameter's boundaries and wrong
# types, every unexpected method) is schema-driven, so it runs once, with
# the first tenant's key; fuzzing and the stateful phase run with both.
BATTERY_BUDGET_SECONDS = 150
FIRST_PHASES = "examples,coverage,fuzzing,stateful"
SECOND_PHASES = env("ACORN_SCHEMATHESIS_SECOND_PHASES", "examples,fuzzing,stateful")
SCHEMATHESIS = Path(sys.executable).with_name("schemathesis")


@pytest.fixture
def two_worlds(tenant_a, tenant_b):
    with running_sandbox(purchase_orders=0) as sandbox:
        sandbox.state.generate(vendor_code="DEMO1", count=6, days=2)
        worlds = [seed_api_world(tenant=tenant, sandbox=sandbox)
                  for tenant in (tenant_a, tenant_b)]
        problems = sandbox.state.conformance_problems
        assert problems == [], problems[:5]
    return worlds


def _real_cursor(api_key: str) -> str:
    """A cursor the server issued (page 2 of the purchase orders, ordered like
    every list by (-created_at, -id), so it is valid on every list)."""
    from urllib.parse import parse_qs, urlparse

    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Api-Key {api_key}")
    body = api.get(reverse("api:channels:po_list"), {"page_size": 1}).json()
    assert body["next"], "seed more than one purchase order"
    return parse_qs(urlparse(body["next"]).query)["cursor"][0]


def _config(path: Path, cursor: str) -> Path:
    """The cursor is an opaque token the server signs nothing into but
    issues itself; a random string is not one and answers 400 (tested in
    acorn/tests/test_api_incremental.py). Schemathesis sends no cursor, an
    empty one or a real one, and fuzzes everything else."""
    path.write_text(
        "[dictionaries.cursors]\n"
        f"values = [\"\", \"{cursor}\"]\n\n"
        "[parameters]\n"
        "\"query.cursor\" = { dictionary = \"cursors\", probability = 1.0 }\n\n"
        # CI size: every unexpected method goes through the same DRF
        # dispatch, two of them prove the 405s; repeated query parameters
        # are read as the last one, as Django does everywhere.
        "[phases.coverage]\n"
        "unexpected-methods = [\"POST\", \"DELETE\"]\n"
        "generate-duplicate-query-parameters = false\n"
    )
    return path


def _schemathesis(live_server, api_key: str, report: Path, *, phases: str) -> dict:
    """One run over every operation; returns the JSON report."""
    config = _config(report.with_suffix(".toml"), _real_cursor(api_key))
    command = [
        str(SCHEMATHESIS), "--config-file", str(config), "run",
        f"{live_server.url}/api/schema/",
        "--url", live_server.url,
        "--header", f"Authorization: Api-Key {api_key}",
        "--checks", "all",
        "--phases", phases,
        "--max-examples", str(EXAMPLES_PER_OPERATION),
        "--seed", "20261201",
        "--workers", "2",
        "--request-timeout", "20",
        "--suppress-health-check", "too_slow",
        "--report", "json", "--report-json-path", str(report),
        "--no-color",
    ]
    # Its cache folder goes next to the report, not into the repository.
    completed = subprocess.run(command, capture_output=True, text=True, cwd=report.parent,
                               timeout=BATTERY_BUDGET_SECONDS, check=False)
    output = completed.stdout + completed.stderr
    report.with_suffix(".txt").write_text(output)
    if env("ACORN_SCHEMATHESIS_DUMP", ""):
        Path(env("ACORN_SCHEMATHESIS_DUMP")).write_text(output)
    assert report.exists(), output[-4000:]
    result = json.loads(report.read_text())
    result["_output"] = output
    result["_returncode"] = completed.returncode
    return result


def test_schemathesis_finds_no_failure_with_either_tenants_key(two_worlds, live_server,
                                                               tmp_path):
    for world, phases in zip(two_worlds, (FIRST_PHASES, SECOND_PHASES), strict=True):
        result = _schemathesis(live_server, world.api_key,
                               tmp_path / f"{world.tenant.slug}.json", phases=phases)
        output = result["_output"]
        logger.info("schemathesis for %s:\n%s", world.tenant.slug, output[-3000:])
        assert result["_returncode"] == 0, output[-6000:]


def _ids(api: APIClient, name: str) -> set[int]:
    url = reverse(name)
    seen: set[int] = set()
    while url:
        body = api.get(url).json()
        seen |= {row["id"] for row in body["results"] if "id" in row}
        url = body["next"]
    return seen


def test_each_key_sees_only_its_own_tenants_ids(two_worlds):
    """Every list and detail: A's ids never show with B's key, and B's key
    gets 404 for A's objects."""
    clients = []
    for world in two_worlds:
        api = APIClient()
        api.credentials(HTTP_AUTHORIZATION=f"Api-Key {world.api_key}")
        clients.append(api)
    lists = ["api:channels:po_list", "api:channels:sync_run_list", "api:channels:api_call_list",
             "api:channels:mapping_list", "api:channels:shipment_list",
             "api:channels:submission_list", "api:inventory:product_list",
             "api:inventory:stock_list", "api:inventory:movement_list",
             "api:inventory:purchase_plan_list"]
    for name in lists:
        ids_a, ids_b = _ids(clients[0], name), _ids(clients[1], name)
        assert ids_a and ids_b, name
        assert not ids_a & ids_b, name
    for name, kwarg in [("api:channels:po_detail", "purchase_order_id"),
                        ("api:inventory:product_detail", "product_id")]:
        list_name = {"po_detail": "api:channels:po_list",
                     "product_detail": "api:inventory:product_list"}[name.split(":")[-1]]
        for mine, other in ((0, 1), (1, 0)):
            for object_id in _ids(clients[mine], list_name):
                url = reverse(name, kwargs={kwarg: object_id})
                assert clients[mine].get(url).status_code == 200
                assert clients[other].get(url).status_code == 404
    kpis = [clients[i].get(reverse("api:channels:vendor_kpis")).json()["results"]
            for i in (0, 1)]
    assert {row["account_id"] for row in kpis[0]} == {two_worlds[0].account.pk}
    assert {row["account_id"] for row in kpis[1]} == {two_worlds[1].account.pk}
    tenants = [clients[i].get(reverse("api:tenant_detail")).json()["id"] for i in (0, 1)]
    assert tenants == [two_worlds[0].tenant.pk, two_worlds[1].tenant.pk]
