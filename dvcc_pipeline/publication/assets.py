"""Publication as Dagster assets: `published` (the file, Parquet, history) and the extracts.

`published` depends on every mart it publishes, so the blocking quality checks on those marts
keep it from running in a run where one of them fails; the live file then stays the last
good version.
"""

import dagster as dg

from dvcc_pipeline.config import get_settings
from dvcc_pipeline.publication.contract import load_published_contract
from dvcc_pipeline.publication.control import ControlResult
from dvcc_pipeline.publication.publish import publish, write_municipality_extracts
from dvcc_pipeline.runtime.warehouse import WAREHOUSE_POOL
from dvcc_pipeline.transformation.project import mart_asset_key

PUBLICATION_GROUP = "publicatie"
PUBLISHED_KEY = dg.AssetKey(["published"])
EXTRACTS_KEY = dg.AssetKey(["gemeente_extracten"])
MART_KEYS = [mart_asset_key(t.name) for t in load_published_contract().mart_tables]


def _checks_in_run(context: dg.AssetExecutionContext) -> tuple[int, int]:
    """(passed, total) of every asset check evaluated earlier in this run, dbt tests included."""
    records = context.instance.all_logs(context.run_id, of_type=dg.DagsterEventType.ASSET_CHECK_EVALUATION)
    results = [r.dagster_event.event_specific_data for r in records if r.dagster_event is not None]
    return sum(1 for r in results if r.passed), len(results)


def _control_metadata(control: ControlResult | None) -> dict[str, dg.MetadataValue]:
    """Disclosure control's figures: rounding, amounts, the interval audit and its redraws."""
    if control is None:
        return {}
    figures = control.figures()
    return {
        "onthullingscontrole": dg.MetadataValue.json(
            {
                **figures,
                "audit_eerste_ronde": (control.first_audit or control.audit).figures(),
                "audit": control.audit.figures(),
                "bedragen_informatieverlies_eur": round(control.amounts.hidden_total_eur, 2),
                "hergebruikt": control.reused,
                "per_tabel": {
                    t.table: {
                        "aantallen": t.counts,
                        "veranderd": t.rounded_changed,
                        "bedragen_verborgen": t.amounts_hidden,
                    }
                    for t in control.tables
                },
            }
        ),
        **{
            name: dg.MetadataValue.int(int(figures[name]))
            for name in ("cellen_afgerond", "aantallen_vastgepind", "bedragen_verborgen", "hertrekrondes")
            if figures.get(name) is not None
        },
        "identiteiten": dg.MetadataValue.json(control.audit.identity_kinds),
    }


@dg.asset(
    key=PUBLISHED_KEY,
    group_name=PUBLICATION_GROUP,
    deps=MART_KEYS,
    pool=WAREHOUSE_POOL,
    kinds={"duckdb", "parquet"},
    description=(
        "De gepubliceerde tabellen (published/published.duckdb en Parquet): de marts na "
        "onthullingscontrole, atomair vervangen, met de publicatiegeschiedenis in `publicatie`."
    ),
)
def published(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
    passed, total = _checks_in_run(context)
    result = publish(get_settings(), checks_passed=passed, checks_total=total)
    return dg.MaterializeResult(
        metadata={
            "publicatie_id": result.publicatie_id,
            "pad": dg.MetadataValue.path(str(result.path)),
            "rijen_per_tabel": dg.MetadataValue.json(result.row_counts),
            "leveringen": result.leveringen,
            "checks_geslaagd": f"{passed}/{total}",
            **_control_metadata(result.control),
            "overzicht_eenheid": dg.MetadataValue.md(result.preview_markdown),
            "duur_s": result.seconds,
        }
    )


@dg.asset(
    key=EXTRACTS_KEY,
    group_name=PUBLICATION_GROUP,
    deps=[PUBLISHED_KEY],
    kinds={"duckdb"},
    description=(
        "Per gemeente een eigen bestand (published/gemeenten/<gemeentecode>.duckdb) met alleen de "
        "cijfers van die gemeente en haar basisteam, district en eenheid."
    ),
)
def gemeente_extracten(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
    written = write_municipality_extracts(get_settings())
    sizes = [path.stat().st_size for path in written.values()]
    return dg.MaterializeResult(
        metadata={
            "gemeenten": len(written),
            "bestanden": dg.MetadataValue.json(sorted(written)),
            "totale_grootte_mb": round(sum(sizes) / 1e6, 2),
            "grootste_mb": round(max(sizes, default=0) / 1e6, 2),
        }
    )


PUBLICATION_ASSETS = [published, gemeente_extracten]
