"""The retention job: a scheduled run of :func:`apply_retention` that logs what went.

The deletions themselves (archive folders, raw rows, ledger and `raw.retentie_log`) are
done by `retention.py`; this module only runs them in the warehouse pool, so it never
collides with a loading run, and reports them in the run log and as a materialization of
the raw partition it emptied (so the next processing run rebuilds what follows from it).
"""

from datetime import date

import dagster as dg

from dvcc_pipeline.config import get_settings
from dvcc_pipeline.ingestion.assets import ingestion_asset_key
from dvcc_pipeline.ingestion.retention import apply_retention
from dvcc_pipeline.runtime.warehouse import WAREHOUSE_POOL, WarehouseResource


class RetentieConfig(dg.Config):
    """Run configuration of the retention job."""

    retentie_dagen_override: dict[str, int] | None = None
    """Bewaartermijn in dagen per feed in plaats van die uit het contract (alleen voor tests en proefdraaien)."""


@dg.op(
    description="Verwijdert ruwe bestanden en ruwe rijen waarvan de bewaartermijn uit het contract voorbij is.",
    pool=WAREHOUSE_POOL,
)
def bewaartermijn_toepassen(
    context: dg.OpExecutionContext, config: RetentieConfig, warehouse: WarehouseResource
) -> int:
    settings = get_settings()
    with warehouse.connect() as conn:
        actions = apply_retention(settings, conn, date.today(), config.retentie_dagen_override)
    for a in actions:
        context.log.info(
            f"{a.feed_id} {a.period}: bewaartermijn verstreken op {a.keep_until.isoformat()}; "
            f"{a.rows_deleted} rijen en {a.files_deleted} bestanden verwijderd "
            f"(leveringen: {', '.join(a.deliveries) or '-'})"
        )
        context.log_event(
            dg.AssetMaterialization(
                asset_key=ingestion_asset_key(a.feed_id),
                partition=a.period,
                description="Bewaartermijn verstreken: de ruwe rijen van deze periode zijn verwijderd.",
                metadata={"status": "bewaartermijn verstreken", "rijen_verwijderd": a.rows_deleted},
            )
        )
    if not actions:
        context.log.info("Geen periodes waarvan de bewaartermijn is verstreken; niets verwijderd.")
    context.add_output_metadata(
        {
            "periodes_verwijderd": len(actions),
            "rijen_verwijderd": sum(a.rows_deleted for a in actions),
            "bestanden_verwijderd": sum(a.files_deleted for a in actions),
        }
    )
    return len(actions)


@dg.job(
    name="retentie",
    description="Past de bewaartermijnen uit de datacontracten toe; wat verwijderd is staat in raw.retentie_log.",
)
def retentie() -> None:
    bewaartermijn_toepassen()


RETENTION_JOB = retentie

RETENTION_SCHEDULE = dg.ScheduleDefinition(
    name="retentie_wekelijks",
    job=RETENTION_JOB,
    cron_schedule="0 3 * * 0",
    execution_timezone="Europe/Amsterdam",
    default_status=dg.DefaultScheduleStatus.RUNNING,
    description="Elke zondag om 3:00: verwijder ruwe gegevens waarvan de bewaartermijn voorbij is.",
)
