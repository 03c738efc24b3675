"""Retention: raw files and raw rows go when the contract's retention has passed.

Per feed and period: the archived files under `archive/<feed>/<period>/` and the rows of
that period in `raw.<feed>` are deleted, the deletion is logged in `raw.retentie_log` and
the ledger rows get `verwijderd_op`. Published aggregates are not touched.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import duckdb

from dvcc_pipeline.config import Settings
from dvcc_pipeline.contracts import all_contracts, period_bounds
from dvcc_pipeline.ingestion.ledger import LEDGER, RETENTION_LOG, ensure_raw_schema, raw_table


@dataclass(frozen=True)
class RetentionAction:
    feed_id: str
    period: str
    keep_until: date
    rows_deleted: int
    files_deleted: int
    deliveries: tuple[str, ...]


def _periods(settings: Settings, conn: duckdb.DuckDBPyConnection, feed_id: str) -> set[str]:
    rows = conn.execute(
        f"SELECT DISTINCT periode FROM {LEDGER} WHERE feed = $feed AND periode IS NOT NULL AND verwijderd_op IS NULL",
        {"feed": feed_id},
    ).fetchall()
    periods = {r[0] for r in rows}
    folder = settings.archive_dir / feed_id
    if folder.is_dir():
        periods |= {p.name for p in folder.iterdir() if p.is_dir() and not p.is_symlink()}
    return periods


def apply_retention(
    settings: Settings,
    conn: duckdb.DuckDBPyConnection,
    today: date,
    retention_days_override: dict[str, int] | None = None,
) -> list[RetentionAction]:
    """Delete what is past retention; return what was deleted."""
    ensure_raw_schema(conn)
    actions: list[RetentionAction] = []
    overrides = retention_days_override or {}
    for contract in all_contracts():
        feed_id = contract.feed_id
        for period in sorted(_periods(settings, conn, feed_id)):
            bounds = period_bounds(period, contract.file.period_grain)
            if bounds is None:
                continue
            if feed_id in overrides:
                expires = bounds[1] + timedelta(days=overrides[feed_id] + 1)
            else:
                expires = contract.sla.retention_expires(bounds[1])
            if today < expires:
                continue
            folder = settings.archive_dir / feed_id / period
            files = [p for p in folder.rglob("*") if p.is_file()] if folder.is_dir() else []
            conn.execute("BEGIN TRANSACTION")
            try:
                rows = conn.execute(
                    f"DELETE FROM {raw_table(contract)} WHERE _periode = $period", {"period": period}
                ).fetchall()
                deleted = int(rows[0][0]) if rows else 0
                ids = conn.execute(
                    f"UPDATE {LEDGER} SET verwijderd_op = $now WHERE feed = $feed AND periode = $period "
                    "AND verwijderd_op IS NULL RETURNING levering_id",
                    {"now": datetime.now(), "feed": feed_id, "period": period},
                ).fetchall()
                delivery_ids = tuple(sorted(r[0] for r in ids))
                conn.execute(
                    f"INSERT INTO {RETENTION_LOG} VALUES ($feed, $period, $until, $rows, $files, $ids, $now)",
                    {
                        "feed": feed_id,
                        "period": period,
                        "until": expires - timedelta(days=1),
                        "rows": deleted,
                        "files": len(files),
                        "ids": list(delivery_ids),
                        "now": datetime.now(),
                    },
                )
                conn.execute("COMMIT")
            except Exception:
                conn.execute("ROLLBACK")
                raise
            if folder.is_dir():
                shutil.rmtree(folder)
            actions.append(
                RetentionAction(feed_id, period, expires - timedelta(days=1), deleted, len(files), delivery_ids)
            )
    return actions
