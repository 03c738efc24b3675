"""Read published DuckDB files as a downstream reader would, with whatever DuckDB is installed.

Runs under the project's DuckDB and under the older readers in .venv-compat/ (see the Makefile's
`compat` target), so it imports nothing but duckdb and the standard library. For each file it
opens read-only, lists the tables of schema main, reads every row and prints one JSON line:
{"duckdb": version, "files": {path: {table: [rows, sha256]}}} or {"duckdb": version, "error": text}.
The checksum is over the sorted text form of the rows, so it does not depend on the reader's
row order or hash function.
"""

from __future__ import annotations

import hashlib
import json
import sys

import duckdb


def table_checksums(path: str) -> dict[str, list[object]]:
    conn = duckdb.connect(path, read_only=True)
    try:
        tables = [
            row[0]
            for row in conn.execute(
                "SELECT table_name FROM duckdb_tables() WHERE schema_name = 'main' ORDER BY table_name"
            ).fetchall()
        ]
        result: dict[str, list[object]] = {}
        for table in tables:
            rows = conn.execute(f'SELECT * FROM main."{table}"').fetchall()
            digest = hashlib.sha256()
            for text in sorted(repr(row) for row in rows):
                digest.update(text.encode("utf-8") + b"\n")
            result[table] = [len(rows), digest.hexdigest()]
        return result
    finally:
        conn.close()


def main(paths: list[str]) -> int:
    try:
        files = {path: table_checksums(path) for path in paths}
    except duckdb.Error as error:
        print(json.dumps({"duckdb": duckdb.__version__, "error": str(error)}))
        return 1
    print(json.dumps({"duckdb": duckdb.__version__, "files": files}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
