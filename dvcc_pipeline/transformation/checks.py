"""dbt's data tests as one Dagster asset check per model: `dbt_tests`, summarising its tests.

dagster-dbt makes every dbt test its own asset check, and each check costs a run three
events (planned, evaluation, output): 245 tests were ≈ 735 of a run's ≈ 900 events, each an
event-log write. One check per tested model keeps what the UI needs — a model whose tests
fail is red, and the check's description and metadata name every failing test with its
number of failing rows — for about a tenth of the events. A test on a dbt source (the raw
layer) is no check (see `assets.TRANSLATOR`); a failing one is named like the others.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import dagster as dg

CHECK_NAME = "dbt_tests"
_FAILED = ("fail", "error")


def _rows(count: int | None) -> str:
    return "" if count is None else f" ({count} {'rij' if count == 1 else 'rijen'})"


_TESTED_SOURCE = re.compile(r"source\('(\w+)',\s*'(\w+)'\)")


def test_targets(manifest: Mapping[str, Any]) -> dict[str, list[str]]:
    """Test unique id -> the unique ids of the models, seeds or sources it tests: the node the
    test names in its `meta.dagster.ref`, else a generic test's attached node, else the source
    a source test is written on, else (a singular test) every model or seed it reads."""
    nodes: Mapping[str, Any] = manifest["nodes"]
    sources: Mapping[str, Any] = manifest.get("sources", {})
    by_name = {node["name"]: uid for uid, node in nodes.items() if node["resource_type"] in ("model", "seed")}
    out: dict[str, list[str]] = {}
    for unique_id, node in nodes.items():
        if node["resource_type"] != "test":
            continue
        depends = node.get("depends_on", {}).get("nodes", [])
        ref = ((node.get("config") or {}).get("meta") or {}).get("dagster", {}).get("ref", {}).get("name")
        tested = _TESTED_SOURCE.search(str((node.get("test_metadata") or {}).get("kwargs", {}).get("model", "")))
        source = f"source.{node['package_name']}.{tested[1]}.{tested[2]}" if tested else None
        if ref in by_name:
            out[unique_id] = [by_name[ref]]
        elif node.get("attached_node") in nodes:
            out[unique_id] = [node["attached_node"]]
        elif source in sources:
            out[unique_id] = [source]
        else:
            out[unique_id] = [d for d in depends if d in nodes]
    return out


def check_spec(asset_key: dg.AssetKey, tests: list[str]) -> dg.AssetCheckSpec:
    names = sorted(test.split(".")[2] for test in tests)
    return dg.AssetCheckSpec(
        name=CHECK_NAME,
        asset=asset_key,
        description=f"De dbt-tests van dit model ({len(names)}): " + ", ".join(names) + ".",
    )


@dataclass
class _Outcome:
    passed: list[str] = field(default_factory=list)
    failed: dict[str, int | None] = field(default_factory=dict)  # test -> failing rows
    warned: dict[str, int | None] = field(default_factory=dict)


@dataclass
class TestSummary:
    """Collects the test results of one `dbt build` per tested asset."""

    targets: dict[str, list[str]]
    key_of: Mapping[str, dg.AssetKey]  # model or seed unique id -> its asset key
    outcomes: dict[dg.AssetKey, _Outcome] = field(default_factory=dict)
    unattached_failed: dict[str, int | None] = field(default_factory=dict)  # tests on sources

    def take(self, raw_event: Mapping[str, Any], log: Any) -> bool:
        """Record a dbt test result; False for any other event (the caller converts those)."""
        if raw_event.get("info", {}).get("name") != "LogTestResult":
            return False
        data = raw_event.get("data", {})
        unique_id = data.get("node_info", {}).get("unique_id", "")
        if not unique_id.startswith("test."):
            return False
        status = str(data.get("status", "")).lower()
        failures = data.get("num_failures")
        name = unique_id.split(".")[2]
        keys = [self.key_of[t] for t in self.targets.get(unique_id, []) if t in self.key_of]
        counted = _rows(failures)
        if status in _FAILED:
            log.error(f"dbt-test {name} mislukt{counted}")
            if not keys:
                self.unattached_failed[name] = failures
        elif status == "warn":
            log.warning(f"dbt-test {name} geeft een waarschuwing{counted}")
        for key in keys:
            outcome = self.outcomes.setdefault(key, _Outcome())
            if status in _FAILED:
                outcome.failed[name] = failures
            elif status == "warn":
                outcome.warned[name] = failures
            else:
                outcome.passed.append(name)
        return True

    def failure_lines(self) -> list[str]:
        """One Dutch line per failed test (error severity), naming it and its model."""
        lines = [f"dbt-test {name} mislukt{_rows(rows)}" for name, rows in sorted(self.unattached_failed.items())]
        for key, outcome in self.outcomes.items():
            for name, rows in sorted(outcome.failed.items()):
                lines.append(f"dbt-test {name} mislukt{_rows(rows)} op {key.to_user_string()}")
        return lines

    def results(self, selected: set[dg.AssetCheckKey]) -> Iterator[dg.AssetCheckResult]:
        """One result per selected check whose model's tests ran."""
        for key, outcome in self.outcomes.items():
            if dg.AssetCheckKey(key, CHECK_NAME) not in selected:
                continue
            bad = {**outcome.failed, **outcome.warned}
            described = ", ".join(f"{n}{_rows(rows)}" for n, rows in sorted(bad.items()))
            yield dg.AssetCheckResult(
                asset_key=key,
                check_name=CHECK_NAME,
                passed=not bad,
                severity=dg.AssetCheckSeverity.ERROR if outcome.failed else dg.AssetCheckSeverity.WARN,
                description=(f"Mislukt: {described}." if bad else f"Alle {len(outcome.passed)} dbt-tests geslaagd."),
                metadata={
                    "tests": len(outcome.passed) + len(bad),
                    "geslaagd": len(outcome.passed),
                    "mislukt": dg.MetadataValue.json({n: rows for n, rows in sorted(outcome.failed.items())}),
                    "waarschuwing": dg.MetadataValue.json({n: rows for n, rows in sorted(outcome.warned.items())}),
                },
            )
