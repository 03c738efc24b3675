"""Time the validator against a plain DuckDB `read_csv` of the same file.

Usage: `python -m dvcc_pipeline.ingestion.throughput FILE [CONTRACT]`.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import duckdb

from dvcc_pipeline.ingestion.validator import validate_file


def measure(path: Path, contract_id: str | None = None) -> dict[str, object]:
    """Seconds for plain DuckDB `read_csv` and for the full validator on the same file.

    Two baselines: counting rows (DuckDB may skip building the values) and loading every
    value as text into a table, which is the fair comparison for a validator that must
    look at every value.
    """
    path = Path(path)
    conn = duckdb.connect()
    conn.execute("SET enable_progress_bar = false")
    start = time.perf_counter()
    rows = conn.execute("SELECT count(*) FROM read_csv($path, all_varchar=true)", {"path": str(path)}).fetchone()[0]
    count_only = time.perf_counter() - start
    start = time.perf_counter()
    conn.execute(
        "CREATE TEMP TABLE plain AS SELECT * FROM read_csv($path, all_varchar=true)",
        {"path": str(path)},
    )
    load_all = time.perf_counter() - start
    conn.close()
    start = time.perf_counter()
    receipt = validate_file(path, contract_id)
    validator = time.perf_counter() - start
    return {
        "bestand": path.name,
        "bytes": path.stat().st_size,
        "rijen": rows,
        "read_csv_telling_seconden": round(count_only, 3),
        "read_csv_seconden": round(load_all, 3),
        "validator_seconden": round(validator, 3),
        "verhouding": round(validator / load_all, 2) if load_all else None,
        "verhouding_telling": round(validator / count_only, 2) if count_only else None,
        "status": receipt.status,
    }


if __name__ == "__main__":
    print(json.dumps(measure(Path(sys.argv[1]), *sys.argv[2:3]), indent=2))
