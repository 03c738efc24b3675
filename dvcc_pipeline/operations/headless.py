"""`dvcc run`: the same Dagster jobs the sensors and the UI use, executed in-process.

One ingestion run covers every feed with new files (a step per feed over all its periods,
each period reported as a materialization of that partition), then one processing run
builds, checks and publishes what is out of date since the last publication
(`jobs.processing_scope`), or everything when asked.
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

from dvcc_pipeline.config import CODE_LOCATION, FEEDS, Settings
from dvcc_pipeline.contracts import load_partners
from dvcc_pipeline.ingestion import (
    Fingerprint,
    LandingScan,
    quarantine_unknown,
    scan_landing,
    settle,
    unknown_entries,
)
from dvcc_pipeline.ingestion.assets import feed_step_name, fingerprint_token, ingestie
from dvcc_pipeline.ingestion.receipt import display_name
from dvcc_pipeline.ingestion.reconcile import reconcile
from dvcc_pipeline.operations.progress import Progress, Silent
from dvcc_pipeline.orchestration.jobs import PROCESSING_JOB, processing_scope
from dvcc_pipeline.publication.assets import PUBLISHED_KEY
from dvcc_pipeline.runtime.errors import describe
from dvcc_pipeline.runtime.recovery import process_tags
from dvcc_pipeline.runtime.warehouse import check_warehouse

# The UI lists a job's runs by the code location's label, so runs made here show on Overview
# and Jobs as if launched from the UI. Dagster sets that tag on every run it launches from a
# code location but exports no public constant or API for an in-process run: its string it is.
REPOSITORY_LABEL_TAG = ".dagster/repository"


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


# The ingestion steps log `<feed>: <n> van <total> bestanden ingenomen` as they go.
_PROGRESS = re.compile(r"(?P<feed>[a-z_]+): (?P<done>\d+) van (?P<total>\d+) bestanden ingenomen")

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


def _listen(instance: dg.DagsterInstance, progress: Progress) -> str:
    """A run id whose events drive `progress`, each step a stage. Events of an in-process run
    reach the listener as they are stored, so the output follows the run as it goes."""
    run_id = str(uuid.uuid4())

    def on_event(entry: Any) -> None:
        event = entry.dagster_event
        if event is None or not event.step_key:
            return
        if event.event_type_value == "STEP_START":
            progress.start(step_stage(event.step_key))
        elif event.event_type_value in ("STEP_SUCCESS", "STEP_FAILURE"):
            progress.end(step_stage(event.step_key), ok=event.event_type_value == "STEP_SUCCESS")

    instance.add_event_listener(run_id, on_event)
    return run_id


def ingest_landing(
    settings: Settings,
    defs: dg.Definitions,
    instance: dg.DagsterInstance,
    scans: dict[str, LandingScan],
    stable: dict[Path, Fingerprint],
    progress: Progress,
) -> dg.ExecuteInProcessResult | None:
    """One ingestion run for all feeds: a step per feed with settled files (its strays too)."""
    steps: dict[str, dict[str, list[str]]] = {}
    totals: dict[str, int] = {}
    for feed_id, scan in scans.items():
        strays = [p for p in scan.strays if p in stable]
        deliveries = [d for d in scan.deliveries if d.path in stable]
        if not strays and not deliveries:
            continue
        steps[feed_step_name(feed_id)] = {
            "vaste_bestanden": [fingerprint_token(settings, d.path, stable[d.path]) for d in deliveries],
            "losse_bestanden": [fingerprint_token(settings, p, stable[p]) for p in strays],
        }
        totals[feed_id] = len(deliveries)
    if not steps:
        return None
    return defs.resolve_job_def(ingestie.name).execute_in_process(
        instance=instance,
        run_id=_listen_feeds(instance, progress, totals),
        run_config={**QUIET_LOGS, "ops": {step: {"config": config} for step, config in steps.items()}},
        tags=_run_tags(),
        op_selection=sorted(steps),
        raise_on_error=False,
    )


def _listen_feeds(instance: dg.DagsterInstance, progress: Progress, totals: dict[str, int]) -> str:
    """A run id whose events drive one counted stage per feed: a feed's stage starts with its
    step and advances with the step's progress lines (`assets.progress_line`)."""
    run_id = str(uuid.uuid4())
    stages = {feed_step_name(feed_id): feed_id for feed_id in totals}

    def on_event(entry: Any) -> None:
        event = entry.dagster_event
        if event is None:
            found = _PROGRESS.fullmatch(entry.user_message or "")
            if found and found["feed"] in totals:
                progress.advance(f"inname {found['feed']}", int(found["done"]))
            return
        feed_id = stages.get(event.step_key or "")
        if feed_id is None:
            return
        if event.event_type_value == "STEP_START":
            progress.start(f"inname {feed_id}", total=totals[feed_id])
        elif event.event_type_value in ("STEP_SUCCESS", "STEP_FAILURE"):
            progress.end(f"inname {feed_id}", ok=event.event_type_value == "STEP_SUCCESS")

    instance.add_event_listener(run_id, on_event)
    return run_id


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
            key = evaluation.asset_check_key
            if evaluation.passed:
                continue
            if evaluation.severity == dg.AssetCheckSeverity.ERROR:
                outcome.failed_checks.append(f"{key.asset_key.to_user_string()}:{key.name}")
            else:
                line = (
                    f"controle {key.name} op {key.asset_key.to_user_string()} geeft een waarschuwing "
                    "(blokkeert niet); de details staan bij de controle in de Dagster UI"
                )
                if line not in outcome.warnings:
                    outcome.warnings.append(line)


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
    settings.ensure_dirs(load_partners())
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
            result = ingest_landing(settings, defs, instance, scans, stable, progress)
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
