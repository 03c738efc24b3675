"""Unattended processing: the sensor that starts `verwerking` after ingestion.

The landing sensors launch one ingestion run per feed and period as files settle. This
sensor waits until everything has calmed down — no file left in landing, no run queued or
running, and the settle window passed since the last run ended — and then launches one
processing run over exactly what `dvcc run` would process (`jobs.processing_scope`). So a
partner who drops twelve files gets one publication, not twelve.

The run key is derived from the latest ingestion materialisations, the last publication and
the scope: a run whose blocking check failed is not retried for the same data (the last
good publication stays live and the UI shows the failed check); the next delivery, a change
of code, or a person (UI or `dvcc run`) starts the next attempt. A run whose process died
(kill, out of memory, a stop of the service) is relaunched by Dagster's own run retries
(`run_retries` in the instance, never on a failed step or check). When the key was used
already, the tick says so in Dutch: which run, and what happens next.
"""

from __future__ import annotations

import hashlib
import os
import time
from pathlib import Path

import dagster as dg

from dvcc_pipeline.config import FEEDS, Settings, get_settings
from dvcc_pipeline.contracts import load_partners
from dvcc_pipeline.ingestion.assets import ingestion_asset_key
from dvcc_pipeline.ingestion.landing import is_temporary
from dvcc_pipeline.ingestion.receipt import display_name, shown_names
from dvcc_pipeline.orchestration.jobs import PROCESSING_JOB, processing_scope
from dvcc_pipeline.publication.assets import PUBLISHED_KEY

_IN_FLIGHT = [
    dg.DagsterRunStatus.QUEUED,
    dg.DagsterRunStatus.NOT_STARTED,
    dg.DagsterRunStatus.STARTING,
    dg.DagsterRunStatus.STARTED,
    dg.DagsterRunStatus.CANCELING,
]


KEY_TAG = "dvcc/verwerkingssleutel"
"""The run key on the run itself (Dagster's retries copy it), so a tick can find the run of a key."""


def _files_waiting(settings: Settings, feed_dirs: list[Path]) -> list[str]:
    """Drops not yet taken in (upload names excepted), as places under DVCC_HOME."""
    return sorted(
        display_name(os.path.relpath(entry, settings.home))
        for folder in feed_dirs
        if folder.is_dir()
        for entry in folder.iterdir()
        if not is_temporary(entry.name)
    )


def _failed_steps(instance: dg.DagsterInstance, run_id: str) -> list[str]:
    return sorted(
        {e.step_key for e in instance.all_logs(run_id, of_type=dg.DagsterEventType.STEP_FAILURE) if e.step_key}
    )


def _key_used(instance: dg.DagsterInstance, run_key: str) -> dg.SkipReason | None:
    """Why the run of this key is not launched again, when a run of it exists (newest retry first)."""
    records = instance.get_run_records(filters=dg.RunsFilter(tags={KEY_TAG: run_key}), limit=1)
    if not records:
        return None
    run = records[0].dagster_run
    if run.status == dg.DagsterRunStatus.SUCCESS:
        return dg.SkipReason(f"Deze leveringen zijn al verwerkt en gepubliceerd in run {run.run_id}.")
    if run.status == dg.DagsterRunStatus.CANCELED:
        return dg.SkipReason(
            f"De verwerking van deze leveringen (run {run.run_id}) is geannuleerd; start haar opnieuw in de UI "
            "(Materialize) of met dvcc run, of wacht op een nieuwe levering."
        )
    failed = _failed_steps(instance, run.run_id)
    if failed:
        return dg.SkipReason(
            f"De verwerking van deze leveringen (run {run.run_id}) mislukte in {', '.join(failed)}, een fout in "
            "de gegevens of een blokkerende controle; de vorige publicatie blijft staan. Niet opnieuw geprobeerd "
            "met dezelfde gegevens: een nieuwe levering, een codewijziging of een handmatige start (UI of dvcc run) "
            "probeert het opnieuw."
        )
    return dg.SkipReason(
        f"De verwerking van deze leveringen (run {run.run_id}) stopte zonder dat een stap mislukte (het proces "
        "viel weg); Dagster herhaalt zo'n run zelf, tot het maximum aantal herhalingen. Daarna: een handmatige "
        "start (UI of dvcc run) of een nieuwe levering."
    )


def _run_key(instance: dg.DagsterInstance, scope: set[dg.AssetKey]) -> str:
    keys = [ingestion_asset_key(feed_id) for feed_id in FEEDS] + [PUBLISHED_KEY]
    latest = instance.get_latest_materialization_events(keys)
    state = [f"{key.to_user_string()}={e.timestamp if e else '-'}" for key, e in latest.items()]
    state += sorted(key.to_user_string() for key in scope)
    return hashlib.sha256("|".join(sorted(state)).encode()).hexdigest()[:24]


def _evaluate(context: dg.SensorEvaluationContext) -> dg.RunRequest | dg.SkipReason:
    settings = get_settings()
    instance = context.instance
    if instance.get_run_records(filters=dg.RunsFilter(statuses=_IN_FLIGHT), limit=1):
        return dg.SkipReason("Wacht: er loopt of wacht nog een run (ingestie of verwerking).")
    drops = [settings.landing_for(feed_id) for feed_id in FEEDS]
    drops += [settings.box_in(partner_id) for partner_id in load_partners()]
    waiting = _files_waiting(settings, drops)
    if waiting:
        return dg.SkipReason(
            f"Wacht: {len(waiting)} bestand(en) in landing of de partnerboxen nog niet ingelezen: "
            f"{shown_names(waiting)}."
        )
    last = instance.get_run_records(limit=1)
    if last and last[0].end_time and time.time() - last[0].end_time < settings.settle_seconds:
        return dg.SkipReason(f"Wacht tot het {settings.settle_seconds:g} s rustig is na de laatste run.")
    raw = instance.get_latest_materialization_events([ingestion_asset_key(feed_id) for feed_id in FEEDS])
    if not any(raw.values()):
        return dg.SkipReason("Nog geen leveringen ingelezen.")
    scope = processing_scope(context.repository_def, instance)
    if not scope:
        return dg.SkipReason("Niets te verwerken: alles is gepubliceerd.")
    run_key = _run_key(instance, scope)
    used = _key_used(instance, run_key)
    if used is not None:
        return used
    return dg.RunRequest(
        run_key=run_key,
        asset_selection=sorted(scope, key=lambda key: key.to_user_string()),
        tags={"dvcc/aanleiding": "automatisch na ingestie", KEY_TAG: run_key},
    )


def build_processing_sensor() -> dg.SensorDefinition:
    @dg.sensor(
        name="verwerking_na_ingestie",
        job=PROCESSING_JOB,
        minimum_interval_seconds=get_settings().sensor_interval_seconds,
        default_status=dg.DefaultSensorStatus.RUNNING,
        description=(
            "Start de verwerking (dbt, kwaliteitspoort, publicatie, rapporten) zodra landing leeg en rustig is "
            "en geen ingestie meer loopt; één publicatie per levering, alleen wat sinds de laatste publicatie "
            "veranderde. Uitzetten: dan publiceert alleen nog een persoon (UI of dvcc run)."
        ),
    )
    def verwerking_na_ingestie(context: dg.SensorEvaluationContext):
        return _evaluate(context)

    return verwerking_na_ingestie


PROCESSING_SENSOR = build_processing_sensor()
