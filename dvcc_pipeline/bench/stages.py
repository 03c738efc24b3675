"""Wall time per pipeline stage, from the step statistics Dagster stored for the runs."""

from __future__ import annotations

from pathlib import Path

import dagster as dg

from dvcc_pipeline.config import FEEDS
from dvcc_pipeline.ingestion.assets import ingestion_asset_key

# Stage -> the Dagster step keys it consists of (see jobs.py and definitions.py).
STAGE_STEPS: dict[str, tuple[str, ...]] = {
    "validatie_en_laden": tuple(ingestion_asset_key(feed).to_python_identifier() for feed in FEEDS),
    "dbt_build": ("dvcc_dbt_assets",),
    "kwaliteitscontroles": ("kwaliteitspoort",),
    "publicatie": ("published", "gemeente_extracten"),
}
STAGES: tuple[str, ...] = (*STAGE_STEPS, "overige_stappen")


def step_seconds(dagster_home: Path, known_runs: set[str]) -> tuple[dict[str, float], set[str]]:
    """Seconds per step key over the runs not in `known_runs` (summed if a step recurs),
    and the ids of all runs now in the instance."""
    instance = dg.DagsterInstance.from_config(str(dagster_home))
    try:
        out: dict[str, float] = {}
        run_ids = {record.dagster_run.run_id for record in instance.get_run_records()}
        for run_id in run_ids - known_runs:
            for stats in instance.get_run_step_stats(run_id):
                if stats.start_time is None or stats.end_time is None:
                    continue
                out[stats.step_key] = out.get(stats.step_key, 0.0) + stats.end_time - stats.start_time
        return out, run_ids
    finally:
        instance.dispose()


def stage_seconds(steps: dict[str, float]) -> dict[str, float]:
    """Group step times into the report's stages; unknown steps go to `overige_stappen`."""
    known = {step: stage for stage, keys in STAGE_STEPS.items() for step in keys}
    out = dict.fromkeys(STAGES, 0.0)
    for step, seconds in steps.items():
        out[known.get(step, "overige_stappen")] += seconds
    return {stage: round(seconds, 2) for stage, seconds in out.items()}


def feed_seconds(steps: dict[str, float]) -> dict[str, float]:
    """Validation + load per feed (the same step does both; receipts do not time them apart)."""
    return {feed: round(steps.get(ingestion_asset_key(feed).to_python_identifier(), 0.0), 2) for feed in FEEDS}
