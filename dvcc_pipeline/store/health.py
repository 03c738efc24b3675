"""Before a run writes anything: does the warehouse open, and does its ledger read back?

DuckDB checksums every block it reads, so reading the ledger and every raw table's delivery
ids finds a truncated or overwritten file before a single delivery is archived into it.
"""

from __future__ import annotations

import duckdb

from dvcc_pipeline.config import FEEDS, Settings


class WarehouseUnusable(Exception):
    """The warehouse cannot be used; the message is one Dutch line saying what to do."""


def is_lock_error(exc: BaseException) -> bool:
    return isinstance(exc, duckdb.IOException) and "lock" in str(exc).lower()


def check_warehouse(settings: Settings) -> None:
    """Raise :class:`WarehouseUnusable` when the warehouse is locked or damaged; a missing one is fine."""
    path = settings.warehouse_path
    if not path.exists():
        return
    try:
        conn = duckdb.connect(str(path))
    except duckdb.Error as exc:
        if is_lock_error(exc):
            raise WarehouseUnusable(
                f"Het datawarehouse {path} is in gebruik door een ander proces (een lopende run of dvcc ui); "
                "wacht tot dat klaar is en start opnieuw."
            ) from exc
        raise WarehouseUnusable(_damaged(path, exc)) from exc
    try:
        tables = {
            name
            for (name,) in conn.execute("SELECT table_name FROM duckdb_tables() WHERE schema_name = 'raw'").fetchall()
        }
        if "deliveries" in tables:
            conn.execute("SELECT * FROM raw.deliveries").fetchall()
        for feed_id in FEEDS:
            if feed_id in tables:
                conn.execute(f'SELECT count(DISTINCT _levering_id) FROM raw."{feed_id}"').fetchall()
    except duckdb.Error as exc:
        raise WarehouseUnusable(_damaged(path, exc)) from exc
    finally:
        conn.close()


def _damaged(path, exc: BaseException) -> str:
    reason = str(exc).splitlines()[0][:160] if str(exc) else type(exc).__name__
    return (
        f"Het datawarehouse {path} is beschadigd ({reason}); er is niets ingenomen of gearchiveerd. "
        "Herbouw het met `dvcc herstel` (uit archief en ontvangstbewijzen)."
    )
