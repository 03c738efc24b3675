"""The single-writer DuckDB warehouse: a Dagster resource, and the health check before writing.

DuckDB checksums every block it reads, so reading the ledger and every raw table's delivery
ids finds a truncated or overwritten file before a single delivery is archived into it.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import dagster as dg
import duckdb

from dvcc_pipeline.config import FEEDS, Settings, get_settings
from dvcc_pipeline.runtime.errors import WarehouseUnusable, is_lock_error

# Every asset that writes the warehouse runs in this pool; the instance limits it to one
# step at a time (dagster.yaml), so a sensor-launched run and a manual run never collide.
WAREHOUSE_POOL = "dvcc_warehouse"


class WarehouseResource(dg.ConfigurableResource):
    """Opens the warehouse file named by the settings (DVCC_HOME)."""

    @contextmanager
    def connect(self, read_only: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
        settings = get_settings()
        settings.warehouse_dir.mkdir(parents=True, exist_ok=True)
        conn = duckdb.connect(str(settings.warehouse_path), read_only=read_only)
        try:
            yield conn
        finally:
            conn.close()


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
