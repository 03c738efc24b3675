"""Jobs that span concerns: the processing run after ingestion, and what it must rebuild."""

from collections.abc import Mapping

import dagster as dg

from dvcc_pipeline.config import FEEDS
from dvcc_pipeline.ingestion.assets import INGESTION_GROUP, LEDGER_ASSET, ingestion_asset_key
from dvcc_pipeline.publication.assets import PUBLISHED_KEY

PROCESSING_SELECTION = dg.AssetSelection.all() - dg.AssetSelection.groups(INGESTION_GROUP)

# Everything downstream of ingestion: dbt (seeds, staging, intermediate, marts and their
# tests), the quality gate and publication.
PROCESSING_JOB = dg.define_asset_job(
    name="verwerking",
    selection=PROCESSING_SELECTION,
    description="Bouwt, toetst en publiceert alles wat uit de geladen leveringen volgt.",
)


def _children(selection: dg.AssetSelection) -> dg.AssetSelection:
    return selection.downstream(depth=1, include_self=False)


def _changed_definitions(
    code_versions: Mapping[dg.AssetKey, str | None], built_with: Mapping[dg.AssetKey, str | None]
) -> list[dg.AssetKey]:
    """Processing assets never built, or last built from other code (a dbt model or seed's checksum).

    `built_with` is the code version of each asset's latest materialization, None when it was
    never built (`DagsterInstance.get_latest_materialization_code_versions`)."""
    changed = []
    for key, version in code_versions.items():
        built = built_with.get(key)
        # Without a code version of its own, Dagster records the run id: nothing to compare.
        if built is None or (version is not None and built != version):
            changed.append(key)
    return changed


def processing_scope(
    defs: dg.Definitions | dg.RepositoryDefinition, instance: dg.DagsterInstance, *, everything: bool = False
) -> set[dg.AssetKey]:
    """The processing assets that are out of date since the last publication.

    That is everything downstream of (a) the feeds with deliveries since then and (b) the
    assets whose definition changed or that were never built. Each staging model reads
    the delivery ledger, but a feed's rows only change with its own deliveries: lineage
    through the ledger alone would rebuild (and re-test) every feed after any delivery,
    so only the models reporting on the ledger itself follow it. Without any publication
    yet, or when `everything` is asked, everything is in scope. Empty means nothing to do.
    A sensor passes its repository instead of the definitions.
    """
    graph = defs.resolve_asset_graph() if isinstance(defs, dg.Definitions) else defs.asset_graph
    processing = set(PROCESSING_SELECTION.resolve(graph))
    if everything:
        return processing
    raw_keys = {feed_id: ingestion_asset_key(feed_id) for feed_id in FEEDS}
    latest = instance.get_latest_materialization_events([PUBLISHED_KEY, *raw_keys.values()])
    last_publication = latest.get(PUBLISHED_KEY)
    if last_publication is None:
        return processing
    ledger = dg.AssetSelection.assets(LEDGER_ASSET.key)
    feeds = [
        feed_id
        for feed_id, key in raw_keys.items()
        if (event := latest.get(key)) is not None and event.timestamp > last_publication.timestamp
    ]
    roots = _children(dg.AssetSelection.assets(*(raw_keys[f] for f in feeds))) - ledger
    if feeds:
        roots |= _children(ledger) - _children(dg.AssetSelection.assets(*raw_keys.values()))
    code_versions = {key: graph.get(key).code_version for key in processing}
    built_with = instance.get_latest_materialization_code_versions(processing)
    roots |= dg.AssetSelection.assets(*_changed_definitions(code_versions, built_with))
    return set(roots.downstream().resolve(graph)) & processing
