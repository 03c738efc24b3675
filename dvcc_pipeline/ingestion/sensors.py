"""One sensor per feed on its landing folder and the partner boxes routed to it.

Each tick launches at most one ingestion run per feed, over every period with new files.

The sensor only decides *what* to run: :func:`scan_landing` applies the delivery protocol
(temporary names ignored, settle time, strays). The cursor remembers the fingerprint of
every file already launched, so a file is launched once; entries for files that have left
the landing folder are dropped, so a later re-drop of the same name is seen again (and
reported as `duplicaat` by ingestion).
"""

import hashlib
import json
import math
from collections import defaultdict
from pathlib import Path

import dagster as dg

from dvcc_pipeline.config import FEEDS, Settings, get_settings
from dvcc_pipeline.ingestion import scan_landing
from dvcc_pipeline.ingestion.assets import INGESTION_JOBS, PARTITIONS, drop_key, landing_opruimen
from dvcc_pipeline.ingestion.landing import Settling
from dvcc_pipeline.ingestion.receipt import display_name, shown_names
from dvcc_pipeline.runtime.recovery import ABORTED_TAG

# A single-run backfill over a range of partitions is asked for with these run tags (as the UI's
# launchpad does); RunRequest takes only one partition key and the package exports no public
# constant for them, so they are written as the strings Dagster documents.
PARTITION_RANGE_START_TAG = "dagster/asset_partition_range_start"
PARTITION_RANGE_END_TAG = "dagster/asset_partition_range_end"


def _fingerprint(path: Path) -> str:
    stat = path.lstat()
    return f"{stat.st_size}:{stat.st_mtime_ns}"


def _aborted_last_run(instance: dg.DagsterInstance, feed_id: str) -> str | None:
    """The feed's last ingestion run when its process died (see `recovery`): the files it
    left in landing were launched already, so they are launched once more."""
    last = instance.get_runs(filters=dg.RunsFilter(job_name=INGESTION_JOBS[feed_id].name), limit=1)
    if last and last[0].status == dg.DagsterRunStatus.FAILURE and ABORTED_TAG in last[0].tags:
        return last[0].run_id
    return None


def _ingestion_request(
    feed_id: str, new_by_period: dict[str, list[str]], ordered_partitions: list[str], retry_of: str | None
) -> dg.RunRequest:
    """One ingestion run for all new periods of a feed: a partner's history of forty months is
    one run, not forty (a single-run backfill over the range, as `dvcc run` does)."""
    names = sorted(name for names in new_by_period.values() for name in names)
    if retry_of:
        names.append(retry_of)
    run_key = hashlib.sha256("|".join(names).encode()).hexdigest()[:24]
    job_name = INGESTION_JOBS[feed_id].name
    if len(new_by_period) == 1:
        return dg.RunRequest(run_key=run_key, job_name=job_name, partition_key=next(iter(new_by_period)))
    positions = sorted(ordered_partitions.index(period) for period in new_by_period)
    return dg.RunRequest(
        run_key=run_key,
        job_name=job_name,
        tags={
            PARTITION_RANGE_START_TAG: ordered_partitions[positions[0]],
            PARTITION_RANGE_END_TAG: ordered_partitions[positions[-1]],
        },
    )


def skip_reason(settings: Settings, settling: list[Settling]) -> str:
    """Nothing to launch: say which files are still settling (a stalled upload shows here)."""
    if not settling:
        return "Geen nieuwe leveringen."
    waits = [
        f"{display_name(drop_key(settings, s.path))} (nog {math.ceil(s.seconds_left)} s)"
        for s in sorted(settling, key=lambda s: s.seconds_left)
    ]
    return (
        f"Nog geen levering klaar: {len(waits)} bestand(en) nog niet de hele wachttijd onveranderd "
        f"(upload mogelijk nog bezig): {shown_names(waits)}."
    )


def build_landing_sensor(feed_id: str) -> dg.SensorDefinition:
    @dg.sensor(
        name=f"landing_{feed_id}",
        jobs=[INGESTION_JOBS[feed_id], landing_opruimen],
        minimum_interval_seconds=get_settings().sensor_interval_seconds,
        default_status=dg.DefaultSensorStatus.RUNNING,
        description=(
            f"Kijkt in landing/{feed_id}/ en in de partnerboxen (partners/<partner>/in/) en start "
            "één ingestie-run voor alle nieuwe perioden."
        ),
    )
    def _sensor(context: dg.SensorEvaluationContext) -> dg.SensorResult:
        settings = get_settings()
        seen: dict[str, str] = json.loads(context.cursor or "{}")
        scan = scan_landing(settings, feed_id)
        keys = {path: drop_key(settings, path) for path in (*(d.path for d in scan.deliveries), *scan.strays)}
        current = {keys[path]: _fingerprint(path) for path in keys}
        retry = _aborted_last_run(context.instance, feed_id)
        new_by_period: dict[str, list[str]] = defaultdict(list)
        for delivery in scan.deliveries:
            key = keys[delivery.path]
            if retry or seen.get(key) != current[key]:
                new_by_period[delivery.period].append(f"{key}@{current[key]}")
        known = list(context.instance.get_dynamic_partitions(PARTITIONS[feed_id].name))
        new_partitions = sorted(set(new_by_period) - set(known))
        run_requests = []
        if new_by_period:
            run_requests.append(_ingestion_request(feed_id, new_by_period, [*known, *new_partitions], retry_of=retry))
        new_strays = [p for p in scan.strays if seen.get(keys[p]) != current[keys[p]]]
        if new_strays:
            run_requests.append(
                dg.RunRequest(
                    run_key="opruimen:" + "|".join(f"{keys[p]}@{current[keys[p]]}" for p in new_strays),
                    job_name=landing_opruimen.name,
                    run_config={"ops": {"quarantaine_onbekende_bestanden": {"config": {"feed_id": feed_id}}}},
                )
            )
        return dg.SensorResult(
            run_requests=run_requests,
            cursor=json.dumps(current, sort_keys=True),
            dynamic_partitions_requests=(
                [PARTITIONS[feed_id].build_add_request(new_partitions)] if new_partitions else []
            ),
            skip_reason=None if run_requests else skip_reason(settings, scan.settling),
        )

    return _sensor


LANDING_SENSORS = [build_landing_sensor(feed_id) for feed_id in FEEDS]
