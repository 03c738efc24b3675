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
    """Seconds for plain `read_csv` (all text, counted) and for the full validator."""
    path = Path(path)
    conn = duckdb.connect()
    conn.execute("SET enable_progress_bar = false")
    start = time.perf_counter()
    rows = conn.execute(
        "SELECT count(*) FROM (SELECT * FROM read_csv($path, all_varchar=true))", {"path": str(path)}
    ).fetchone()[0]
    plain = time.perf_counter() - start
    conn.close()
    start = time.perf_counter()
    receipt = validate_file(path, contract_id)
    validator = time.perf_counter() - start
    return {
        "bestand": path.name,
        "bytes": path.stat().st_size,
        "rijen": rows,
        "read_csv_seconden": round(plain, 3),
        "validator_seconden": round(validator, 3),
        "verhouding": round(validator / plain, 2) if plain else None,
        "status": receipt.status,
    }


if __name__ == "__main__":
    print(json.dumps(measure(Path(sys.argv[1]), *sys.argv[2:3]), indent=2))
