"""The single-writer DuckDB warehouse as a Dagster resource."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import dagster as dg
import duckdb

from dvcc_pipeline.config import get_settings

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
