"""The import contract (pyproject.toml, import-linter) holds on the code
and breaks when a floor rule is broken."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ["acorn", "inventory", "vendor_api", "channels", "invoicing", "reconciliation"]
LINT_IMPORTS = str(Path(sys.executable).with_name("lint-imports"))


def _lint(cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [LINT_IMPORTS, "--no-cache"], cwd=cwd, capture_output=True, text=True, timeout=120,
        env={"PYTHONPATH": str(cwd), "PATH": "/usr/bin:/bin"},
    )


@pytest.fixture(scope="module")
def house(tmp_path_factory) -> Path:
    """A copy of the packages' Python files and the contract."""
    root = tmp_path_factory.mktemp("house")
    shutil.copy(ROOT / "pyproject.toml", root / "pyproject.toml")
    for package in PACKAGES:
        shutil.copytree(ROOT / package, root / package,
                        ignore=shutil.ignore_patterns("*.pyc", "__pycache__", "static",
                                                      "locale", "migrations"))
    return root


def test_the_contract_is_kept():
    result = _lint(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Contracts: 3 kept, 0 broken." in result.stdout


@pytest.mark.parametrize(("module", "line", "contract"), [
    # a floor importing a higher floor
    ("inventory/models.py", "import channels.models", "Floors 0-4"),
    ("invoicing/models.py", "from reconciliation import models", "Floors 0-4"),
    # an app importing the wiring
    ("channels/services/mappings.py", "import acorn.urls", "Floors 0-4"),
    # the basement importing a floor, or its own floor-4 modules
    ("acorn/dataio/cells.py", "from inventory import models", "The basement"),
    ("acorn/db/roles.py", "import acorn.schedule", "The basement"),
    # channels reaching past inventory's published packages
    ("channels/services/mappings.py", "from inventory.services.stock import product_resolve",
     "Other apps use only inventory"),
    ("channels/selectors/purchase_orders.py", "from inventory.models import Product",
     "Other apps use only inventory"),
])
def test_a_violation_breaks_the_contract(house, module, line, contract):
    # Given a copy of the house with one forbidden import added
    path = house / module
    original = path.read_text()
    path.write_text(original + f"\n\ndef _probe():\n    {line}  # noqa\n")
    try:
        # When the contract is checked
        result = _lint(house)
    finally:
        path.write_text(original)
    # Then it fails and names the broken contract
    assert result.returncode == 1, result.stdout + result.stderr
    broken = [text for text in result.stdout.splitlines() if text.endswith(
        "ignored imports)") and "BROKEN" in text]
    assert any(text.startswith(contract) for text in broken), result.stdout
