"""Dagster assets for ingestion: one asset per feed, partitioned by delivery period.

The asset body only orchestrates: every rule is applied by :func:`ingest_delivery`, which
reads it from the feed's contract. A rejected delivery is recorded (receipt, ledger,
metadata, a failing warning check) and never fails the run.
"""

import contextlib
import dataclasses
import functools
import logging
import os
import time
import warnings
from collections import defaultdict
from collections.abc import Callable, Iterator
from pathlib import Path

import dagster as dg
import duckdb

from dvcc_pipeline.config import FEEDS, Settings, get_settings
from dvcc_pipeline.contracts import load_contract
from dvcc_pipeline.ingestion import (
    DeliveryChanged,
    Fingerprint,
    Receipt,
    ingest_delivery,
    quarantine_stray,
    scan_landing,
    settle,
)
from dvcc_pipeline.ingestion.batch_load import take_in_together
from dvcc_pipeline.ingestion.receipt import display_name
from dvcc_pipeline.ingestion.reconcile import reconcile
from dvcc_pipeline.runtime.errors import WarehouseUnusable, describe
from dvcc_pipeline.runtime.warehouse import WAREHOUSE_POOL, WarehouseResource, check_warehouse

INGESTION_GROUP = "ingestie"

# A single-run backfill policy lets `dvcc run` load many periods in one run; it is marked beta.
warnings.filterwarnings("ignore", category=dg.BetaWarning, message=".*backfill_policy.*")

FEED_LABELS: dict[str, str] = {
    "politie_registraties": "Politieregistraties (aangiften en meldingen), per kwartaal",
    "bank_fraudemeldingen": "Fraudemeldingen bij banken, per bank per maand",
    "fraudehelpdesk_meldingen": "Meldingen bij de Fraudehelpdesk, per maand",
    "veiligheidsmonitor": "CBS Veiligheidsmonitor, tweejaarlijks",
    "programma_registraties": "Registraties van het programmabureau DVCC, per kwartaal",
}

PARTITIONS: dict[str, dg.DynamicPartitionsDefinition] = {
    feed_id: dg.DynamicPartitionsDefinition(name=f"{feed_id}__periodes") for feed_id in FEEDS
}

REJECTED = "afgekeurd"


class IngestieConfig(dg.Config):
    """Run configuration of an ingestion run."""

    vaste_bestanden: list[str] | None = None
    """Bestanden die de aanroeper al over de wachttijd heeft zien stilstaan (`dvcc run`), als
    `fingerprint_token`; zonder deze lijst wacht de run zelf de wachttijd af."""


def drop_key(settings: Settings, path: Path) -> str:
    """A dropped entry's place under DVCC_HOME (`landing/<feed>/<name>`, `partners/<p>/in/<name>`):
    the same name may lie in several boxes."""
    return os.fsdecode(os.path.relpath(path, settings.home))


def fingerprint_token(settings: Settings, path: Path, fingerprint: Fingerprint) -> str:
    """A settled file as run-config text: its place's bytes in hex (any name fits), size, mtime."""
    return f"{os.fsencode(drop_key(settings, path)).hex()}:{fingerprint.size}:{fingerprint.mtime_ns}"


def settled_entries(settings: Settings, paths: list[Path], tokens: list[str] | None) -> dict[Path, Fingerprint]:
    """The entries to take now: those the caller saw settle, or those that settle now."""
    if tokens is None:
        return settle(paths, settings.settle_seconds)
    wanted = {}
    for token in tokens:
        name, size, mtime = token.split(":")
        wanted[os.fsdecode(bytes.fromhex(name))] = Fingerprint(int(size), int(mtime))
    return {p: wanted[key] for p in paths if (key := drop_key(settings, p)) in wanted}


@contextlib.contextmanager
def open_door(settings: Settings, warehouse: WarehouseResource) -> Iterator[duckdb.DuckDBPyConnection]:
    """The warehouse connection of an intake run, after the checks every run makes first: the
    warehouse opens and its ledger reads, and what a crash left is finished or undone."""
    try:
        check_warehouse(settings)
    except WarehouseUnusable as exc:
        raise dg.Failure(description=str(exc)) from exc
    with warehouse.connect() as conn:
        reconcile(settings, conn)
        yield conn


PROGRESS_SECONDS = 1.0
"""At most one progress line a second: every line is an event in the instance storage."""


def progress_line(feed_id: str, done: int, total: int) -> str:
    return f"{feed_id}: {done} van {total} bestanden ingenomen"


def take_in(
    context: dg.OpExecutionContext, work: list[tuple[Path, Callable[[], Receipt]]], feed_id: str = ""
) -> list[Receipt]:
    """Run each intake; an operational fault on one file is reported and the others still go.

    A warehouse error stops the rest (the connection may be gone); the step then fails with
    one Dutch line per fault. Progress is logged at most once a second and when all are done;
    a rejected file gets a line of its own (the receipts table is in the materialization).
    """
    receipts, faults = [], []
    shown = time.monotonic()
    for done, (path, step) in enumerate(work, start=1):
        try:
            receipt = step()
            receipts.append(receipt)
            if receipt.status == REJECTED:
                context.log.warning(f"{receipt.file_name}: {receipt.status}")
            if done == len(work) or time.monotonic() - shown >= PROGRESS_SECONDS:
                shown = time.monotonic()
                context.log.info(progress_line(feed_id, done, len(work)))
        except DeliveryChanged as exc:
            context.log.warning(str(exc))
            logging.getLogger("dvcc_pipeline.ingestion").warning(str(exc))
        except (OSError, duckdb.Error) as exc:
            context.log.exception(f"{display_name(path.name)}: {exc}")
            faults.append(f"{display_name(path.name)}: {describe(exc, path)}")
            if isinstance(exc, duckdb.Error):
                break
    if faults:
        raise dg.Failure(description="\n".join(faults))
    return receipts


def ingestion_asset_key(feed_id: str) -> dg.AssetKey:
    """Same key as the dbt source `raw.<feed_id>`, so lineage runs from landing to marts."""
    return dg.AssetKey(["raw", feed_id])


NOTHING_NEW = "geen nieuwe levering in landing"


def _problem_codes(receipt: Receipt) -> str:
    """The problem codes with their counts: short enough for a table cell; the receipt says more."""
    if not receipt.problems:
        return "-"
    codes = ", ".join(f"{p.code} ({p.count})" if p.count else p.code for p in receipt.problems[:3])
    more = len(receipt.problems) - 3
    return codes + (f" en {more} meer" if more > 0 else "")


def _receipt_table(receipts: list[Receipt]) -> str:
    lines = [
        "| bestand | status | rijen | geaccepteerd | afgekeurd | problemen |",
        "| --- | --- | ---: | ---: | ---: | --- |",
    ]
    for r in receipts:
        lines.append(
            f"| {r.file_name.replace('|', '/')} | {r.status} | {r.rows_total} | {r.rows_accepted} "
            f"| {r.rows_rejected} | {_problem_codes(r).replace('|', '/')} |"
        )
    return "\n".join(lines)


def _partition_metadata(receipts: list[Receipt]) -> dict[str, object]:
    last = receipts[-1]
    return {
        "status": last.status,
        "levering_id": last.delivery_id or "-",
        "rijen_geaccepteerd": sum(r.rows_accepted for r in receipts if r.status != REJECTED),
        "rijen_afgekeurd": sum(r.rows_rejected for r in receipts),
        "sha256": last.sha256 or "-",
        "ontvangstbewijs": dg.MetadataValue.md(last.to_markdown()),
        "leveringen": dg.MetadataValue.md(_receipt_table(receipts)),
    }


def _latest_metadata(instance: dg.DagsterInstance, key: dg.AssetKey, period: str) -> dict[str, object] | None:
    """The metadata of the partition's latest materialization, to carry over unchanged."""
    records = instance.fetch_materializations(
        dg.AssetRecordsFilter(asset_key=key, asset_partitions=[period]), limit=1
    ).records
    materialization = records[0].asset_materialization if records else None
    return dict(materialization.metadata) if materialization else None


def _nothing_new(key: dg.AssetKey, period: str) -> dg.AssetObservation:
    return dg.AssetObservation(
        asset_key=key,
        partition=period,
        description="Deze run vond geen nieuw bestand voor deze periode; de laatste levering blijft gelden.",
        metadata={"status": NOTHING_NEW},
    )


CHECK_NAME = "leveringen_geaccepteerd"


def _check_fields(rejected: list[Receipt]) -> dict[str, object]:
    return {
        "passed": not rejected,
        "severity": dg.AssetCheckSeverity.WARN,
        "metadata": {
            "afgekeurd": len(rejected),
            "details": dg.MetadataValue.md(_receipt_table(rejected) if rejected else "-"),
        },
    }


def take_in_feed(
    context: dg.OpExecutionContext,
    warehouse: WarehouseResource,
    feed_id: str,
    periods: set[str] | None,
    tokens: list[str] | None,
) -> dict[str, list[Receipt]]:
    """Take in the feed's settled deliveries (of `periods`, or all): receipts by period."""
    settings = get_settings()
    if tokens is not None:
        settings = dataclasses.replace(settings, settle_seconds=0.0)
    pending = [d for d in scan_landing(settings, feed_id).deliveries if periods is None or d.period in periods]
    stable = settled_entries(settings, [d.path for d in pending], tokens)
    pending = [d for d in pending if d.path in stable]
    by_period: dict[str, list[Receipt]] = defaultdict(list)
    with open_door(settings, warehouse) as conn:
        # the feed's CSV files are checked in one statement and loaded in one transaction where
        # no file needs a decision of its own; archive and receipts stay per file
        batch = take_in_together(settings, conn, load_contract(feed_id), [(d.path, stable[d.path]) for d in pending])
        try:
            work = [
                (
                    d.path,
                    functools.partial(ingest_delivery, settings, conn, d.path, settled=stable[d.path], batch=batch),
                )
                for d in pending
            ]
            for receipt in take_in(context, work, feed_id):
                by_period[receipt.period or "?"].append(receipt)
        finally:
            batch.close(conn)
    return by_period


def build_ingestion_asset(feed_id: str) -> dg.AssetsDefinition:
    key = ingestion_asset_key(feed_id)

    @dg.asset(
        key=key,
        partitions_def=PARTITIONS[feed_id],
        backfill_policy=dg.BackfillPolicy.single_run(),
        group_name=INGESTION_GROUP,
        pool=WAREHOUSE_POOL,
        kinds={"duckdb", "python"},
        output_required=False,  # a run without a new file materializes nothing
        description=(
            f"{FEED_LABELS[feed_id]}. Leveringen uit de partnerboxen (partners/<partner>/in/) en "
            f"landing/{feed_id}/ worden getoetst aan "
            f"het datacontract data_contracts/{feed_id}.yaml en geladen in raw.{feed_id}; "
            "elke partitie is een leveringsperiode."
        ),
        check_specs=[
            dg.AssetCheckSpec(
                CHECK_NAME,
                asset=key,
                description="Alle leveringen in deze run zijn geaccepteerd (waarschuwing, blokkeert niet).",
            )
        ],
    )
    def _ingest(
        context: dg.AssetExecutionContext, config: IngestieConfig, warehouse: WarehouseResource
    ) -> Iterator[dg.MaterializeResult | dg.AssetCheckResult]:
        periods = set(context.partition_keys)
        by_period = take_in_feed(context, warehouse, feed_id, periods, config.vaste_bestanden)
        rejected = [r for rs in by_period.values() for r in rs if r.status == REJECTED]
        check = dg.AssetCheckResult(check_name=CHECK_NAME, **_check_fields(rejected))
        # "nothing new" is an observation: it must not replace the latest delivery's metadata
        for period in sorted(periods - set(by_period)):
            context.log_event(_nothing_new(key, period))
        if not by_period:
            yield check
            return
        for period in sorted(periods):
            receipts = by_period.get(period)
            if receipts:
                metadata = _partition_metadata(receipts)
            else:  # materialized with the others in this run: keep what its latest delivery said
                metadata = _latest_metadata(context.instance, key, period) or {"status": NOTHING_NEW}
            context.add_asset_metadata(metadata, partition_key=period)
        yield dg.MaterializeResult(check_results=[check])

    return _ingest


INGESTION_ASSETS: dict[str, dg.AssetsDefinition] = {f: build_ingestion_asset(f) for f in FEEDS}

LEDGER_ASSET = dg.AssetSpec(
    key=dg.AssetKey(["raw", "deliveries"]),
    deps=list(INGESTION_ASSETS.values()),
    group_name=INGESTION_GROUP,
    kinds={"duckdb"},
    description=(
        "Leveringenregister: één rij per aangeleverd bestand met status, aantallen, sha256, "
        "contractversie, archief- en ontvangstbewijspad. Geschreven door de ingestie-assets."
    ),
)

FRESHNESS_CHECK_NAME = "tijdige_levering"
"""The feed's freshness check (`freshness`), run with every ingestion so a delivery shows at once."""


def ingestion_selection(feed_id: str) -> dg.AssetSelection:
    """The feed's asset with the checks of ingestion: its deliveries accepted, its freshness.

    Not the dbt tests on `raw.<feed>` as a dbt source (Dagster checks on the same key): those
    run in the processing run, with the models that read the source.
    """
    key = ingestion_asset_key(feed_id)
    return dg.AssetSelection.assets(key).without_checks() | dg.AssetSelection.checks(
        dg.AssetCheckKey(key, CHECK_NAME), dg.AssetCheckKey(key, FRESHNESS_CHECK_NAME)
    )


INGESTION_JOBS = {
    feed_id: dg.define_asset_job(
        name=f"ingestie_{feed_id}",
        selection=ingestion_selection(feed_id),
        partitions_def=PARTITIONS[feed_id],
        description=f"Verwerk nieuwe leveringen voor {feed_id}.",
    )
    for feed_id in FEEDS
}


class OpruimConfig(dg.Config):
    feed_id: str
    vaste_bestanden: list[str] | None = None
    """Zoals bij `IngestieConfig`: wat de aanroeper al heeft zien stilstaan."""


def quarantine_strays(
    context: dg.OpExecutionContext, warehouse: WarehouseResource, feed_id: str, tokens: list[str] | None
) -> int:
    settings = get_settings()
    if tokens is not None:  # the caller saw them settle (as in take_in_feed)
        settings = dataclasses.replace(settings, settle_seconds=0.0)
    strays = scan_landing(settings, feed_id).strays
    stable = settled_entries(settings, strays, tokens)
    with open_door(settings, warehouse) as conn:
        work = [
            (path, functools.partial(quarantine_stray, settings, conn, feed_id, path))
            for path in strays
            if path in stable
        ]
        receipts = take_in(context, work, feed_id)
    for receipt in receipts:
        context.log.warning(f"{receipt.file_name}: {receipt.status} ({receipt.problems[0].message})")
    return len(receipts)


@dg.op(description="Zet bestanden in een landingsmap die geen levering zijn in quarantaine, met ontvangstbewijs.")
def quarantaine_onbekende_bestanden(
    context: dg.OpExecutionContext, config: OpruimConfig, warehouse: WarehouseResource
) -> int:
    return quarantine_strays(context, warehouse, config.feed_id, config.vaste_bestanden)


class InnameConfig(dg.Config):
    """Run configuration of one feed's step in the run over all feeds (`dvcc run`)."""

    vaste_bestanden: list[str] | None = None
    """De leveringen die de aanroeper over de wachttijd heeft zien stilstaan (`fingerprint_token`);
    zonder lijst wacht de stap zelf de wachttijd af en neemt alles in."""
    losse_bestanden: list[str] | None = None
    """Stilstaande bestanden in de landingsmap die geen levering zijn: naar quarantaine (idem)."""


def feed_step_name(feed_id: str) -> str:
    return f"inname_{feed_id}"


def _build_feed_step(feed_id: str) -> dg.OpDefinition:
    key = ingestion_asset_key(feed_id)

    @dg.op(
        name=feed_step_name(feed_id),
        pool=WAREHOUSE_POOL,
        description=(
            f"{FEED_LABELS[feed_id]}: neemt de gegeven leveringen in zoals de asset {key.to_user_string()} "
            "dat doet en meldt per leveringsperiode een materialisatie van die partitie."
        ),
    )
    def _step(context: dg.OpExecutionContext, config: InnameConfig, warehouse: WarehouseResource) -> None:
        # Without a list (launched by hand) the step waits the settle window and takes all.
        if config.losse_bestanden != []:
            quarantine_strays(context, warehouse, feed_id, config.losse_bestanden)
        if config.vaste_bestanden == []:
            return
        by_period = take_in_feed(context, warehouse, feed_id, None, config.vaste_bestanden)
        known = set(context.instance.get_dynamic_partitions(PARTITIONS[feed_id].name))
        context.instance.add_dynamic_partitions(PARTITIONS[feed_id].name, sorted(set(by_period) - known))
        for period in sorted(by_period):  # one step, each period's materialization as the asset reports it
            metadata = _partition_metadata(by_period[period])
            context.log_event(dg.AssetMaterialization(key, partition=period, metadata=metadata))
        if by_period:
            rejected = [r for rs in by_period.values() for r in rs if r.status == REJECTED]
            context.log_event(dg.AssetCheckEvaluation(asset_key=key, check_name=CHECK_NAME, **_check_fields(rejected)))

    return _step


FEED_STEPS = {feed_id: _build_feed_step(feed_id) for feed_id in FEEDS}


@dg.job(
    name="ingestie",
    description=(
        "Eén run voor alle feeds (`dvcc run`): per feed één stap over al zijn nieuwe leveringen en perioden; "
        "alleen de stappen van feeds met iets nieuws draaien."
    ),
)
def ingestie() -> None:
    for step in FEED_STEPS.values():
        step()


@dg.job(description="Verplaatst onbekende bestanden uit een landingsmap naar quarantaine.")
def landing_opruimen() -> None:
    quarantaine_onbekende_bestanden()
