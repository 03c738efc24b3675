"""`dvcc run`: the same Dagster jobs the sensors and the UI use, executed in-process.

Per feed one ingestion run covers every period with new files (a single-run backfill over
the partition range), then one processing run builds, checks and publishes what is out of
date since the last publication (`jobs.processing_scope`), or everything when asked.
"""

from __future__ import annotations

import contextlib
import dataclasses
import importlib
import logging
import re
import threading
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import dagster as dg
import duckdb
from dagster._core.storage.tags import (
    ASSET_PARTITION_RANGE_END_TAG,
    ASSET_PARTITION_RANGE_START_TAG,
    REPOSITORY_LABEL_TAG,
)

from dvcc_pipeline.config import FEEDS, Settings
from dvcc_pipeline.errors import describe
from dvcc_pipeline.ingestion import (
    Fingerprint,
    LandingScan,
    quarantine_unknown,
    scan_landing,
    settle,
    unknown_entries,
)
from dvcc_pipeline.ingestion.assets import PARTITIONS, fingerprint_token, ingestion_asset_key
from dvcc_pipeline.ingestion.receipt import display_name
from dvcc_pipeline.ingestion.reconcile import reconcile
from dvcc_pipeline.jobs import PROCESSING_JOB, processing_scope
from dvcc_pipeline.progress import Progress, Silent
from dvcc_pipeline.publication.assets import PUBLISHED_KEY
from dvcc_pipeline.recovery import process_tags
from dvcc_pipeline.store import check_warehouse

# The code location of workspace.yaml: the UI lists a job's runs by this label, so runs made
# here show on Overview and Jobs as if launched from the UI.
CODE_LOCATION = "dvcc_pipeline"


def _run_tags() -> dict[str, str]:
    return {REPOSITORY_LABEL_TAG: f"__repository__@{CODE_LOCATION}", **process_tags()}


# Headless runs print the Dutch summary; Dagster's own step log (with any stack trace) stays in
# the instance, where the UI shows it.
QUIET_LOGS = {"loggers": {"console": {"config": {"log_level": "CRITICAL"}}}}


@dataclass
class RunOutcome:
    """What a headless run did; the CLI turns it into an exit code and a summary."""

    ingestion_runs: list[str] = field(default_factory=list)
    failed_steps: list[str] = field(default_factory=list)
    failed_checks: list[str] = field(default_factory=list)
    processed: int = 0
    """Assets in the processing run; 0 when nothing was out of date (and no run was made)."""
    published: bool = False
    """A new version of `published.duckdb` went live in this run."""
    faults: list[str] = field(default_factory=list)
    """Operational faults, one Dutch line each (disk full, permissions, ...)."""
    warnings: list[str] = field(default_factory=list)
    """What the door and the reconciliation want the operator to know (Dutch)."""

    @property
    def success(self) -> bool:
        return not self.failed_steps and not self.failed_checks and not self.faults


# The ingestion asset logs `<file>: <status>` once per file as it is taken in.
_FILE_DONE = re.compile(r".+: (geaccepteerd|geaccepteerd_met_afkeur|afgekeurd|duplicaat|vervangen)")

# Stages of the processing run, by the step key of our assets (the rest is shown by its key).
_STEP_STAGES = (
    ("dbt", "dbt: standaardiseren en testen"),
    ("kwaliteitspoort", "kwaliteitspoort (GX)"),
    ("published", "publicatie"),
    ("gemeente_extracten", "extracten per gemeente"),
    ("informatiebeeld", "rapporten (informatiebeeld)"),
)


def step_stage(step_key: str) -> str:
    """The Dutch stage name of a processing step."""
    for fragment, label in _STEP_STAGES:
        if fragment in step_key:
            return label
    return step_key


def _listen(instance: dg.DagsterInstance, progress: Progress, *, files_stage: str | None = None) -> str:
    """A run id whose events drive `progress`: per-file log lines advance `files_stage`;
    without it each step is a stage. Events of an in-process run reach the listener as they
    are stored, so the output follows the run as it goes."""
    run_id = str(uuid.uuid4())
    done = 0

    def on_event(entry: Any) -> None:
        nonlocal done
        event = entry.dagster_event
        if event is None:
            if files_stage is not None and _FILE_DONE.fullmatch(entry.user_message or ""):
                done += 1
                progress.advance(files_stage, done)
            return
        if files_stage is not None or not event.step_key:
            return
        if event.event_type_value == "STEP_START":
            progress.start(step_stage(event.step_key))
        elif event.event_type_value in ("STEP_SUCCESS", "STEP_FAILURE"):
            progress.end(step_stage(event.step_key), ok=event.event_type_value == "STEP_SUCCESS")

    instance.add_event_listener(run_id, on_event)
    return run_id


def _ingest_feed(
    settings: Settings,
    defs: dg.Definitions,
    instance: dg.DagsterInstance,
    scan: LandingScan,
    stable: dict[Path, Fingerprint],
    feed_id: str,
    outcome: RunOutcome,
    progress: Progress,
) -> dg.ExecuteInProcessResult | None:
    strays = [p for p in scan.strays if p in stable]
    if strays:
        config = {"feed_id": feed_id, "vaste_bestanden": [fingerprint_token(settings, p, stable[p]) for p in strays]}
        result = defs.resolve_job_def("landing_opruimen").execute_in_process(
            instance=instance,
            tags=_run_tags(),
            run_config={**QUIET_LOGS, "ops": {"quarantaine_onbekende_bestanden": {"config": config}}},
            raise_on_error=False,
        )
        _failures(result, outcome)
    deliveries = [d for d in scan.deliveries if d.path in stable]
    periods = sorted({d.period for d in deliveries})
    if not periods:
        return None
    name = PARTITIONS[feed_id].name
    known = instance.get_dynamic_partitions(name)
    instance.add_dynamic_partitions(name, [p for p in periods if p not in known])
    ordered = list(instance.get_dynamic_partitions(name))
    positions = sorted(ordered.index(p) for p in periods)
    op_name = ingestion_asset_key(feed_id).to_python_identifier()
    stage = f"inname {feed_id}"
    progress.start(stage, total=len(deliveries))
    result = defs.resolve_job_def(f"ingestie_{feed_id}").execute_in_process(
        instance=instance,
        run_id=_listen(instance, progress, files_stage=stage),
        run_config={
            **QUIET_LOGS,
            "ops": {
                op_name: {
                    "config": {
                        "vaste_bestanden": [fingerprint_token(settings, d.path, stable[d.path]) for d in deliveries]
                    }
                }
            },
        },
        tags={
            **_run_tags(),
            ASSET_PARTITION_RANGE_START_TAG: ordered[positions[0]],
            ASSET_PARTITION_RANGE_END_TAG: ordered[positions[-1]],
        },
        raise_on_error=False,
    )
    progress.end(stage, ok=result.success)
    return result


def _warm_up_imports() -> None:
    """Import Great Expectations in the background while dbt builds in its own process.

    In-process, the quality gate runs right after dbt, and importing GX costs about 8 s of
    one core that would otherwise sit idle waiting for dbt. The modules dagster-dbt itself
    imports in this process are loaded first, so the two threads never import the same
    modules at once.
    """
    for module in ("dbt.adapters.factory", "dbt.config.runtime", "dbt.adapters.duckdb"):
        importlib.import_module(module)

    def load() -> None:
        with contextlib.suppress(Exception):  # only a head start: the gate imports GX anyway
            importlib.import_module("great_expectations")

    threading.Thread(target=load, name="dvcc-gx-import", daemon=True).start()


def _failures(result: dg.ExecuteInProcessResult, outcome: RunOutcome) -> None:
    for event in result.all_events:
        if event.is_step_failure:
            user_failure = event.step_failure_data.user_failure_data
            if user_failure is not None and user_failure.description:  # a fault we already put in Dutch
                outcome.faults += user_failure.description.splitlines()
            outcome.failed_steps.append(event.step_key or "?")
        if event.event_type_value == "ASSET_CHECK_EVALUATION":
            evaluation = event.event_specific_data
            if not evaluation.passed and evaluation.severity == dg.AssetCheckSeverity.ERROR:
                key = evaluation.asset_check_key
                outcome.failed_checks.append(f"{key.asset_key.to_user_string()}:{key.name}")


class _Collect(logging.Handler):
    """Keeps the Dutch warnings of the door and the reconciliation for the run's output."""

    def __init__(self, into: list[str]) -> None:
        super().__init__(logging.WARNING)
        self.into = into

    def emit(self, record: logging.LogRecord) -> None:
        self.into.append(record.getMessage())


def prepare_door(settings: Settings) -> list[str]:
    """Before anything is taken in: the warehouse must open and read (else
    :class:`WarehouseUnusable`), and what a crash left is finished or undone.
    Returns what the operator should read."""
    check_warehouse(settings)
    settings.ensure_dirs()
    with duckdb.connect(str(settings.warehouse_path)) as conn:
        return reconcile(settings, conn).lines()


def _quarantine_unknown(settings: Settings, paths: list[Path], outcome: RunOutcome) -> None:
    """Entries outside the feed folders: quarantined with an `onbekende_map` receipt."""
    if not paths:
        return
    with duckdb.connect(str(settings.warehouse_path)) as conn:
        for path in paths:
            try:
                receipt = quarantine_unknown(settings, conn, path)
            except (OSError, duckdb.Error) as exc:
                outcome.faults.append(f"{display_name(path.name)}: {describe(exc, path)}")
                continue
            outcome.warnings.append(f"In quarantaine, niet in de map van een feed: {receipt.file_name}")


def run_pipeline(
    defs: dg.Definitions,
    instance: dg.DagsterInstance,
    settings: Settings,
    *,
    everything: bool = False,
    direct: bool = False,
    progress: Progress | None = None,
) -> RunOutcome:
    """Ingest what has settled in landing (or everything at once when `direct`), then build,
    check and publish what is out of date — or every processing asset when `everything` is set.

    Raises :class:`WarehouseUnusable` before anything is taken in when the warehouse is locked
    or damaged. `progress` shows each stage as it starts and ends (default: nothing).
    """
    progress = progress if progress is not None else Silent()
    try:
        return _run(defs, instance, settings, everything, direct, progress)
    finally:
        progress.close()


def _run(
    defs: dg.Definitions,
    instance: dg.DagsterInstance,
    settings: Settings,
    everything: bool,
    direct: bool,
    progress: Progress,
) -> RunOutcome:
    if direct:
        settings = dataclasses.replace(settings, settle_seconds=0.0)
    outcome = RunOutcome()
    log_path = settings.home / "logs" / "run.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    collect = _Collect(outcome.warnings)
    door_log = logging.getLogger("dvcc_pipeline.ingestion")
    door_log.addHandler(collect)
    # dagster-dbt echoes dbt's log to stdout; headless, it goes to a file (the UI keeps it too).
    with log_path.open("a", encoding="utf-8") as log, contextlib.redirect_stdout(log):
        try:
            door = "deur: warehouse controleren, landing lezen en wachten tot bestanden stilstaan"
            with progress.stage(door):
                prepare_door(settings)  # its lines reach `outcome.warnings` through the door's logger
                scans = {feed_id: scan_landing(settings, feed_id) for feed_id in FEEDS}
                unknown = unknown_entries(settings)
                candidates = [p for scan in scans.values() for p in (*(d.path for d in scan.deliveries), *scan.strays)]
                stable = settle([*candidates, *unknown], settings.settle_seconds)
                _quarantine_unknown(settings, [p for p in unknown if p in stable], outcome)
            for feed_id in FEEDS:
                result = _ingest_feed(settings, defs, instance, scans[feed_id], stable, feed_id, outcome, progress)
                if result is not None:
                    outcome.ingestion_runs.append(result.run_id)
                    _failures(result, outcome)
        finally:
            door_log.removeHandler(collect)
        scope = processing_scope(defs, instance, everything=everything)
        outcome.processed = len(scope)
        if not scope:
            return outcome
        _warm_up_imports()
        processing = defs.resolve_job_def(PROCESSING_JOB.name).execute_in_process(
            instance=instance,
            run_id=_listen(instance, progress),
            run_config=QUIET_LOGS,
            tags=_run_tags(),
            raise_on_error=False,
            asset_selection=sorted(scope, key=lambda key: key.to_user_string()),
        )
    _failures(processing, outcome)
    outcome.published = any(
        event.is_step_materialization and event.asset_key == PUBLISHED_KEY for event in processing.all_events
    )
    return outcome
