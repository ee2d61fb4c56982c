"""The benchmark harness: discovery, the result record, and the JSON file.

A benchmark is a module ``bench/<name>.py`` with ``run(report)``; it calls
``report(...)`` once per measured figure. ``make bench`` runs them all,
``make bench ONLY=<name>`` one. Results go to ``bench/results/latest.json``
(a list of objects; not committed).
"""

from __future__ import annotations

import importlib
import json
import pkgutil
import sys
from dataclasses import asdict, dataclass, field
from pathlib import Path

RESULTS_PATH = Path(__file__).resolve().parent / "results" / "latest.json"
NOT_BENCHMARKS = {"harness", "__main__", "setup"}


@dataclass
class BenchResult:
    name: str
    value: float
    unit: str
    goal: str
    baseline: float | None
    ratio: float | None
    passed: bool
    parameters: dict = field(default_factory=dict)

    def line(self) -> str:
        ratio = f" ratio={self.ratio:.3f}" if self.ratio is not None else ""
        verdict = "PASS" if self.passed else "MISS"
        return (
            f"{verdict} {self.name}: {self.value:.4g} {self.unit}{ratio} "
            f"(goal {self.goal}) {json.dumps(self.parameters, sort_keys=True)}"
        )


def benchmark_names() -> list[str]:
    folder = Path(__file__).resolve().parent
    return sorted(
        module.name
        for module in pkgutil.iter_modules([str(folder)])
        if module.name not in NOT_BENCHMARKS and not module.name.startswith("_")
    )


def run(only: str | None = None) -> list[BenchResult]:
    names = benchmark_names()
    if only:
        if only not in names:
            raise SystemExit(f"No benchmark named {only!r}; known: {', '.join(names)}")
        names = [only]
    results: list[BenchResult] = []

    def report(**kwargs) -> BenchResult:
        result = BenchResult(**kwargs)
        results.append(result)
        print(result.line(), flush=True)
        return result

    for name in names:
        print(f"== {name}", flush=True)
        module = importlib.import_module(f"bench.{name}")
        module.run(report)
    _write(results, only)
    return results


def _write(results: list[BenchResult], only: str | None) -> None:
    RESULTS_PATH.parent.mkdir(parents=True, exist_ok=True)
    existing: list[dict] = []
    if only and RESULTS_PATH.exists():
        # Running one benchmark keeps the other entries of the last full run.
        existing = [
            entry
            for entry in json.loads(RESULTS_PATH.read_text())
            if entry["name"] not in {result.name for result in results}
        ]
    payload = existing + [asdict(result) for result in results]
    RESULTS_PATH.write_text(json.dumps(payload, indent=2, default=str))


if __name__ == "__main__":
    run(sys.argv[1] if len(sys.argv) > 1 else None)
