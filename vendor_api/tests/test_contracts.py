"""The request contracts the repository carries: in step with Amazon's
models, used by the sandbox, and enough on their own (no ../shared)."""

import json
import os
import socket
import subprocess
import sys
import time

import pytest
import requests
from django.conf import settings

from vendor_api import conformance, contracts
from vendor_api.contracts import generate
from vendor_api.sandbox.testing import DEMO_CREDENTIALS


def test_the_official_models_are_present():
    """The conformance checks need ../shared/spapi-models (or
    ACORN_SPAPI_MODELS_DIR): a missing folder fails the suite, never skips it."""
    folder = conformance.models_dir()
    for model_file in conformance.API_MODEL_FILES:
        assert (folder / model_file).is_file(), f"missing official model {folder / model_file}"


@pytest.mark.parametrize("family", sorted(contracts.FAMILY_OPERATIONS))
def test_committed_contracts_match_the_official_models(family):
    """Regenerating from Amazon's models gives the committed file byte for
    byte; when Amazon publishes a new model, run
    ``python -m vendor_api.contracts.generate`` and review the diff."""
    committed = (contracts.CONTRACTS_DIR / f"{family}.json").read_text()
    assert committed == generate.render(generate.family_contract(family))


def test_contracts_and_models_name_the_same_routes():
    for operation_id, route in contracts.contracts().items():
        model = conformance.operation_model(operation_id)
        assert (route.method, route.path) == (model.method, model.path)


def test_contract_problems_read_like_amazons():
    problems = contracts.request_problems(
        operation_id="getPurchaseOrders",
        query={"limit": "101", "createdAfter": "2019-09-2100:00:00", "MarketplaceIds": "X"},
    )
    assert problems == [
        "query.limit: 101 is greater than the maximum of 100",
        "query.createdAfter: '2019-09-2100:00:00' is not a 'date-time'",
    ]
    assert contracts.request_problems(
        operation_id="submitAcknowledgement", body={"acknowledgements": [{}]}
    ) == [
        "body/acknowledgements/0: 'acknowledgementDate' is a required property",
        "body/acknowledgements/0: 'items' is a required property",
        "body/acknowledgements/0: 'purchaseOrderNumber' is a required property",
        "body/acknowledgements/0: 'sellingParty' is a required property",
    ]
    assert contracts.request_problems(operation_id="submitAcknowledgement") == [
        "body: a JSON body is required"
    ]


def test_sandbox_ignores_unknown_query_parameters_as_amazon_does(sandbox, client):
    """Widely used clients add MarketplaceIds to every call: Amazon ignores
    it, so the sandbox answers 200; documented parameters stay checked."""
    token = client.tokens.access_token()
    url = f"{sandbox.base_url}/vendor/orders/v1/purchaseOrders"
    headers = {"x-amz-access-token": token}
    # When a call carries an undocumented parameter
    answer = requests.get(url, params={"limit": "5", "MarketplaceIds": "ATVPDKIKX0DER"},
                          headers=headers, timeout=10)
    # Then it is served
    assert answer.status_code == 200, answer.text
    assert len(answer.json()["payload"]["orders"]) == 5
    # And a documented parameter out of range is still refused
    refused = requests.get(url, params={"limit": "0", "MarketplaceIds": "ATVPDKIKX0DER"},
                           headers=headers, timeout=10)
    assert refused.status_code == 400
    assert refused.json()["errors"][0]["code"] == "InvalidInput"
    assert "query.limit: 0 is less than the minimum of 1" in refused.json()["errors"][0]["message"]
    # And so is the 7-day window
    too_long = requests.get(url, params={"createdAfter": "2026-01-01T00:00:00Z",
                                         "createdBefore": "2026-01-09T00:00:00Z",
                                         "MarketplaceIds": "ATVPDKIKX0DER"},
                            headers=headers, timeout=10)
    assert too_long.status_code == 400
    assert "7 days" in too_long.json()["errors"][0]["message"]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_manage_py_sandbox_runs_with_an_empty_models_folder(tmp_path):
    """`manage.py sandbox` (and so `make demo`) starts and refuses bad
    bodies with no SP-API models at all: ACORN_SPAPI_MODELS_DIR points at
    an empty folder, so any read of the official models would fail."""
    empty = tmp_path / "no-models"
    empty.mkdir()
    port = _free_port()
    env = {**os.environ, "ACORN_SPAPI_MODELS_DIR": str(empty),
           "DJANGO_SETTINGS_MODULE": "acorn.settings.test"}
    process = subprocess.Popen(
        [sys.executable, "manage.py", "sandbox", "--port", str(port), "--purchase-orders", "5"],
        cwd=settings.BASE_DIR, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if requests.get(f"{base}/_sandbox/health", timeout=1).ok:
                    break
            except requests.ConnectionError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                output = process.stdout.read().decode() if process.poll() is not None else ""
                raise AssertionError(f"sandbox did not start: {output[-2000:]}")
            time.sleep(0.2)
        token = requests.post(f"{base}/auth/o2/token", data={
            "grant_type": "refresh_token", "refresh_token": DEMO_CREDENTIALS.refresh_token,
            "client_id": DEMO_CREDENTIALS.client_id,
            "client_secret": DEMO_CREDENTIALS.client_secret,
        }, timeout=10).json()["access_token"]
        headers = {"x-amz-access-token": token, "content-type": "application/json"}
        orders = requests.get(f"{base}/vendor/orders/v1/purchaseOrders", headers=headers,
                              params={"MarketplaceIds": "ATVPDKIKX0DER"}, timeout=10)
        assert orders.status_code == 200, orders.text
        refused = requests.post(f"{base}/vendor/orders/v1/acknowledgements", headers=headers,
                                data=json.dumps({"acknowledgements": [{}]}), timeout=10)
        assert refused.status_code == 400
        message = refused.json()["errors"][0]["message"]
        assert "'purchaseOrderNumber' is a required property" in message
    finally:
        process.terminate()
        process.wait(timeout=10)
