"""Freshness: a warning check per feed that lists the periods whose delivery is overdue.

The contract's SLA says how often a feed delivers and how many days after the end of a
period its delivery is due. Which periods (and, for the bank feed, which banks) are
expected follows from the ledger: every supplier that ever had a delivery accepted is
expected for every period from its first accepted one up to the last period whose due
date has passed. A late partner never blocks publication, so the check only warns.

"Today" is the settings' reference date when one is set: the demo's data is for 2023-2024,
so on the wall's clock every later period would be months overdue.
"""

from dataclasses import dataclass
from datetime import date, timedelta

import dagster as dg
import duckdb

from dvcc_pipeline.config import FEEDS, get_settings
from dvcc_pipeline.contracts import ContractError, FeedContract, load_contract, period_bounds
from dvcc_pipeline.ingestion.assets import FRESHNESS_CHECK_NAME, ingestion_asset_key
from dvcc_pipeline.ingestion.ledger import LEDGER
from dvcc_pipeline.ingestion.receipt import ACCEPTED, ACCEPTED_WITH_REJECTS, REPLACED
from dvcc_pipeline.runtime.warehouse import WAREHOUSE_POOL, WarehouseResource

CHECK_NAME = FRESHNESS_CHECK_NAME

# A replaced delivery was accepted once; its period counts as delivered.
DELIVERED_STATUSES = (ACCEPTED, ACCEPTED_WITH_REJECTS, REPLACED)

_GRAIN_MONTHS = {"month": 1, "quarter": 3, "year": 12}
_UNIT_MONTHS = {
    "month": 1,
    "months": 1,
    "quarter": 3,
    "quarters": 3,
    "y": 12,
    "yr": 12,
    "year": 12,
    "years": 12,
}


@dataclass(frozen=True)
class OverduePeriod:
    supplier: str
    period: str
    due: date
    days_overdue: int


def _step_months(contract: FeedContract) -> int:
    """Months between two expected deliveries (`2 y` → 24), a whole number of periods."""
    try:
        value, unit = contract.sla.frequency.split()
        months = int(value) * _UNIT_MONTHS[unit]
    except (ValueError, KeyError) as exc:
        raise ContractError(f"{contract.feed_id}: leverfrequentie {contract.sla.frequency!r} niet ondersteund") from exc
    grain = _GRAIN_MONTHS[contract.file.period_grain]
    if months <= 0 or months % grain:
        raise ContractError(f"{contract.feed_id}: leverfrequentie past niet op periode-eenheid {grain} maanden")
    return months


def _period_name(start: date, grain: str) -> str:
    if grain == "quarter":
        return f"{start.year}Q{(start.month - 1) // 3 + 1}"
    if grain == "month":
        return f"{start.year}-{start.month:02d}"
    return str(start.year)


def _add_months(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def due_date(contract: FeedContract, period: str) -> date | None:
    """The last day on which the delivery of `period` is on time."""
    bounds = period_bounds(period, contract.file.period_grain)
    if bounds is None:
        return None
    return bounds[1] + timedelta(days=contract.sla.due_days_after_period_end)


def overdue_periods(
    contract: FeedContract, delivered: set[tuple[str, str]], today: date | None = None
) -> list[OverduePeriod]:
    """Expected (supplier, period) pairs without a delivery whose due date is before `today`.

    `delivered` holds `(leverancier, periode)` of every accepted delivery. Each supplier is
    expected from its own first delivered period, stepping by the contract's frequency, so
    a bank that joined later is not asked for months before it joined.
    """
    today = today or date.today()
    grain = contract.file.period_grain
    step = _step_months(contract)
    first: dict[str, date] = {}
    for supplier, period in delivered:
        bounds = period_bounds(period, grain)
        if bounds is not None and (supplier not in first or bounds[0] < first[supplier]):
            first[supplier] = bounds[0]
    overdue: list[OverduePeriod] = []
    for supplier, start in sorted(first.items()):
        while True:
            period = _period_name(start, grain)
            due = due_date(contract, period)
            if due is None or due >= today:
                break
            if (supplier, period) not in delivered:
                overdue.append(OverduePeriod(supplier, period, due, (today - due).days))
            start = _add_months(start, step)
    return overdue


def delivered_periods(conn: duckdb.DuckDBPyConnection, feed_id: str) -> set[tuple[str, str]]:
    """(leverancier, periode) of every accepted delivery of a feed in the ledger."""
    rows = conn.execute(
        f"""SELECT DISTINCT leverancier, periode FROM {LEDGER}
        WHERE feed = $feed AND periode IS NOT NULL AND leverancier IS NOT NULL
          AND list_contains($statuses, status)""",
        {"feed": feed_id, "statuses": list(DELIVERED_STATUSES)},
    ).fetchall()
    return {(r[0], r[1]) for r in rows}


def overdue_markdown(overdue: list[OverduePeriod]) -> str:
    if not overdue:
        return "_Alle verwachte leveringen zijn binnen._"
    lines = ["| leverancier | periode | uiterlijk op | dagen te laat |", "| --- | --- | --- | ---: |"]
    lines += [f"| {o.supplier} | {o.period} | {o.due.isoformat()} | {o.days_overdue} |" for o in overdue]
    return "\n".join(lines)


def _read_delivered(warehouse: WarehouseResource, feed_id: str) -> set[tuple[str, str]]:
    if not get_settings().warehouse_path.is_file():
        return set()
    with warehouse.connect(read_only=True) as conn:
        try:
            return delivered_periods(conn, feed_id)
        except duckdb.CatalogException:  # no ledger yet: nothing was ever delivered
            return set()


def build_freshness_check(feed_id: str) -> dg.AssetChecksDefinition:
    contract = load_contract(feed_id)
    grain = {"quarter": "kwartaal", "month": "maand", "year": "jaar"}[contract.file.period_grain]
    per_bank = " per leverancier" if contract.file.name_pattern.groupindex.get("supplier") else ""

    @dg.asset_check(
        asset=ingestion_asset_key(feed_id),
        name=CHECK_NAME,
        description=(
            f"Elke verwachte levering{per_bank} is binnen: de levering van een {grain} is uiterlijk "
            f"{contract.sla.due_days_after_period_end} dagen na het einde ervan geaccepteerd "
            f"(leverfrequentie {contract.sla.frequency}, volgens data_contracts/{feed_id}.yaml). "
            "Waarschuwing: een late partner houdt de publicatie niet tegen. Er wordt geteld vanaf vandaag, "
            "of vanaf de peildatum als die is ingesteld (DVCC_REFERENCE_DATE of peildatum.txt in DVCC_HOME; "
            "de demo zet die op het einde van haar eigen gegevens)."
        ),
        blocking=False,
        pool=WAREHOUSE_POOL,
    )
    def _check(context: dg.AssetCheckExecutionContext, warehouse: WarehouseResource) -> dg.AssetCheckResult:
        settings = get_settings()
        delivered = _read_delivered(warehouse, feed_id)
        today = settings.reference_date or date.today()
        clock = (
            f"peildatum {today.isoformat()} uit {settings.reference_date_source}"
            if settings.reference_date
            else f"vandaag, {today.isoformat()}"
        )
        overdue = overdue_periods(load_contract(feed_id), delivered, today)
        if overdue:  # one line per check; the periods are in the check's table, not one warning each
            context.log.warning(
                f"{feed_id}: {len(overdue)} levering(en) te laat, tot {max(o.days_overdue for o in overdue)} dagen "
                f"(geteld vanaf {clock}); de lijst staat bij de controle {CHECK_NAME}"
            )
        return dg.AssetCheckResult(
            passed=not overdue,
            severity=dg.AssetCheckSeverity.WARN,
            metadata={
                "te_late_leveringen": len(overdue),
                "meeste_dagen_te_laat": max((o.days_overdue for o in overdue), default=0),
                "leveranciers": len({s for s, _ in delivered}),
                "geteld_vanaf": clock,
                "details": dg.MetadataValue.md(overdue_markdown(overdue)),
            },
        )

    return _check


FRESHNESS_CHECKS: list[dg.AssetChecksDefinition] = [build_freshness_check(f) for f in FEEDS]

FRESHNESS_JOB = dg.define_asset_job(
    name="versheid_controleren",
    selection=dg.AssetSelection.checks(*FRESHNESS_CHECKS),
    description="Controleert per feed of alle verwachte leveringen op tijd binnen zijn.",
)

FRESHNESS_SCHEDULE = dg.ScheduleDefinition(
    name="versheid_dagelijks",
    job=FRESHNESS_JOB,
    cron_schedule="0 7 * * *",
    execution_timezone="Europe/Amsterdam",
    default_status=dg.DefaultScheduleStatus.RUNNING,
    description="Elke ochtend om 7:00: welke leveringen zijn te laat?",
)
