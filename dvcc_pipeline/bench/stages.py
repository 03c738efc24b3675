"""Wall time per pipeline stage, from the step statistics Dagster stored for the runs."""

from __future__ import annotations

from pathlib import Path

import dagster as dg

from dvcc_pipeline.config import FEEDS
from dvcc_pipeline.ingestion.assets import feed_step_name, ingestion_asset_key


def _feed_steps(feed: str) -> tuple[str, str]:
    """A feed's step in its own asset run (sensors) and in the run over all feeds (`dvcc run`)."""
    return ingestion_asset_key(feed).to_python_identifier(), feed_step_name(feed)


# Stage -> the Dagster step keys it consists of (see orchestration/jobs.py and definitions.py).
STAGE_STEPS: dict[str, tuple[str, ...]] = {
    "validatie_en_laden": tuple(step for feed in FEEDS for step in _feed_steps(feed)),
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
    return {feed: round(sum(steps.get(step, 0.0) for step in _feed_steps(feed)), 2) for feed in FEEDS}
