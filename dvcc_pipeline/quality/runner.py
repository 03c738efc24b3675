"""Run the suites with Great Expectations against a read-only view of the warehouse.

GX 1.x has no DuckDB datasource and `dagster-ge` does not support it, so each suite's rows are
read through a read-only DuckDB connection into pandas and validated by one ephemeral GX
context per run (creating a context and importing GX is the slow part; validating is not).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb

from dvcc_pipeline.quality.suites import Suite

if TYPE_CHECKING:  # imported when a suite runs, not when the code location loads
    import pandas as pd

MAX_FAILING_ROWS = 50


@dataclass
class SuiteOutcome:
    """The verdict of one suite, with the rows that failed (at most MAX_FAILING_ROWS)."""

    suite: Suite
    passed: bool
    rows_checked: int
    failures: list[dict[str, Any]] = field(default_factory=list)
    failed_expectations: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def failing_rows(self) -> pd.DataFrame:
        import pandas as pd

        return pd.DataFrame(self.failures)


def _context() -> Any:
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    return context


def _plain(value: Any) -> Any:
    """numpy/pandas scalars as plain Python, so Dagster metadata can hold them."""
    import pandas as pd

    if hasattr(value, "item"):
        return value.item()
    if isinstance(value, pd.Timestamp):
        return value.isoformat()
    return value


def _failing_rows(result: Any, index_columns: list[str]) -> list[dict[str, Any]]:
    details = result.result or {}
    rows = details.get("unexpected_index_list") or []
    if rows and isinstance(rows[0], dict):
        return [{k: _plain(v) for k, v in row.items()} for row in rows]
    observed = details.get("observed_value")
    if details.get("partial_unexpected_list"):
        return [{"waarde": _plain(v)} for v in details["partial_unexpected_list"]]
    return [{"waarneming": str(observed)}] if observed is not None else []


def _validate(context: Any, suite: Suite, frame: pd.DataFrame) -> SuiteOutcome:
    import great_expectations as gx

    name = f"{suite.asset}__{suite.check}"
    source = context.data_sources.add_pandas(name)
    batch = source.add_dataframe_asset(name).add_batch_definition_whole_dataframe(name)
    expectation_suite = context.suites.add(gx.ExpectationSuite(name=name, expectations=suite.expectations()))
    index = [c for c in suite.index_columns if c in frame.columns]
    result = batch.get_batch(batch_parameters={"dataframe": frame}).validate(
        expectation_suite,
        result_format={"result_format": "COMPLETE", "unexpected_index_column_names": index},
    )
    outcome = SuiteOutcome(suite=suite, passed=bool(result.success), rows_checked=len(frame))
    for expectation in result.results:
        if expectation.success:
            continue
        config = expectation.expectation_config
        label = f"{config.type}({config.kwargs.get('column') or config.kwargs.get('column_list') or ''})"
        outcome.failed_expectations.append(label)
        for row in _failing_rows(expectation, index):
            if len(outcome.failures) < MAX_FAILING_ROWS:
                outcome.failures.append({"verwachting": label, **row})
    return outcome


def run_suites(suites: Sequence[Suite], warehouse_path: Path) -> list[SuiteOutcome]:
    """Validate each suite; a suite whose rows cannot be read fails with the error as its row."""
    context = _context()
    outcomes: list[SuiteOutcome] = []
    # An in-memory database with the warehouse attached read-only: the suites read the
    # warehouse by its schema names and may keep scratch tables in `memory`.
    with duckdb.connect(":memory:") as conn:
        conn.execute("ATTACH ? AS wh (READ_ONLY)", [str(warehouse_path)])
        conn.execute("USE wh")
        for suite in suites:
            started = time.perf_counter()
            try:
                frame = suite.frame(conn)
            except (duckdb.Error, ValueError, RuntimeError) as error:
                outcome = SuiteOutcome(
                    suite=suite,
                    passed=False,
                    rows_checked=0,
                    failures=[{"fout": str(error).splitlines()[0]}],
                    failed_expectations=["gegevens lezen"],
                )
            else:
                outcome = _validate(context, suite, frame)
            outcome.seconds = round(time.perf_counter() - started, 3)
            outcomes.append(outcome)
    return outcomes
