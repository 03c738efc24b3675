"""The quality gate as Dagster asset checks on the mart assets.

All suites run in one op (`kwaliteitspoort`), so Great Expectations is imported and its
context created once per run, yet every suite is its own asset check on its own mart. The
blocking ones fail the op with ERROR severity, which keeps publication (downstream of the
marts) from running in the same run; warnings never block.
"""

from collections.abc import Iterator

import dagster as dg

from dvcc_pipeline.config import get_settings
from dvcc_pipeline.publication.contract import load_published_contract
from dvcc_pipeline.quality.runner import SuiteOutcome, run_suites
from dvcc_pipeline.quality.suites import Suite, all_suites
from dvcc_pipeline.runtime.warehouse import WAREHOUSE_POOL
from dvcc_pipeline.transformation.project import mart_asset_key

SUITES: list[Suite] = all_suites(load_published_contract())


def check_key(suite: Suite) -> dg.AssetCheckKey:
    return dg.AssetCheckKey(asset_key=mart_asset_key(suite.asset), name=suite.check)


QUALITY_CHECK_KEYS: list[dg.AssetCheckKey] = [check_key(s) for s in SUITES]


def _markdown(outcome: SuiteOutcome) -> str:
    rows = outcome.failing_rows
    if rows.empty:
        return "_Geen afwijkende rijen._"
    columns = list(rows.columns)
    lines = ["| " + " | ".join(columns) + " |", "|" + " --- |" * len(columns)]
    lines += ["| " + " | ".join("" if v is None else str(v) for v in row) + " |" for row in rows.itertuples(False)]
    return "\n".join(lines)


def check_result(outcome: SuiteOutcome) -> dg.AssetCheckResult:
    """The suite's verdict with the failing rows in the metadata (what the UI shows)."""
    suite = outcome.suite
    return dg.AssetCheckResult(
        asset_key=mart_asset_key(suite.asset),
        check_name=suite.check,
        passed=outcome.passed,
        severity=dg.AssetCheckSeverity.ERROR if suite.blocking else dg.AssetCheckSeverity.WARN,
        description=suite.description,
        metadata={
            "rijen_gecontroleerd": outcome.rows_checked,
            "afwijkende_rijen": dg.MetadataValue.md(_markdown(outcome)),
            "mislukte_verwachtingen": dg.MetadataValue.json(outcome.failed_expectations),
            "duur_s": outcome.seconds,
        },
    )


@dg.multi_asset_check(
    specs=[
        dg.AssetCheckSpec(
            name=suite.check, asset=mart_asset_key(suite.asset), description=suite.description, blocking=suite.blocking
        )
        for suite in SUITES
    ],
    name="kwaliteitspoort",
    description="Great Expectations-suites op de marts; blokkerende afwijkingen houden de publicatie tegen.",
    can_subset=True,
    pool=WAREHOUSE_POOL,
)
def kwaliteitspoort(context: dg.AssetCheckExecutionContext) -> Iterator[dg.AssetCheckResult]:
    selected = context.selected_asset_check_keys
    suites = [s for s in SUITES if check_key(s) in selected]
    for outcome in run_suites(suites, get_settings().warehouse_path):
        if not outcome.passed:
            context.log.warning(f"{outcome.suite.asset}:{outcome.suite.check} faalt: {outcome.failed_expectations}")
        yield check_result(outcome)


QUALITY_CHECKS = [kwaliteitspoort]
