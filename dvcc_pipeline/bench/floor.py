"""The same-output floor: every mart the pipeline publishes, made with the least work.

The partner files are read by the fastest readers (DuckDB's `read_csv` with the contract's
own format, fastexcel for the workbooks) straight into `raw.<feed>` and a ledger of accepted
deliveries; then the project's own dbt SQL, as `dbt compile` writes it, runs node by node in
the manifest's dependency order in one DuckDB connection — no dbt, no Dagster, no checks, no
receipts. The bench compares the floor's marts with the warehouse's row for row, so the
headline ratio compares the same outputs.

What the floor leaves out because no mart reads it: pseudonyms (a keyed hash keeps ids
distinct, and no mart shows an id), the row number within a file (`_rij`, 0 here), dbt's
tests, the quality gate and the publication.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass, field
from graphlib import TopologicalSorter
from pathlib import Path

import duckdb
import pyarrow as pa

from dvcc_pipeline.config import DBT_PROJECT_DIR
from dvcc_pipeline.contracts import FeedContract, all_contracts, quote_identifier
from dvcc_pipeline.ingestion.ledger import LEDGER, ensure_raw_schema, metadata_columns, raw_table
from dvcc_pipeline.publication.contract import load_published_contract

DATABASE = "vloer"
"""The floor's DuckDB catalogue; dbt compiles against a file of the same name, so the
relation names in the compiled SQL (`"vloer"."marts"."…"`) resolve in the floor's file."""

_FILE = "__bestand"


@dataclass(frozen=True)
class Node:
    """One seed or model of the dbt project, with what the floor needs to build it."""

    unique_id: str
    resource_type: str
    schema: str
    relation: str
    materialized: str
    sql: str = ""
    """The compiled SELECT of a model."""
    seed_path: Path | None = None
    column_types: dict[str, str] = field(default_factory=dict)


@dataclass
class FloorTiming:
    """Seconds per stage of the floor, named like the pipeline's stages they stand beside."""

    inlezen: float = 0.0
    """The files into `raw.<feed>` and the ledger (beside the pipeline's validation and load)."""
    dbt_sql: float = 0.0
    """Seeds and models (beside `dbt build`)."""
    per_feed: dict[str, float] = field(default_factory=dict)

    @property
    def seconden(self) -> float:
        return self.inlezen + self.dbt_sql


def compile_project(workdir: Path) -> list[Node]:
    """`dbt compile` of the models against an empty warehouse named like the floor's, in a
    target folder of its own (the pipeline's parse and target stay untouched); returns the
    seeds and models in dependency order. Not timed: it prepares the floor's SQL."""
    target = workdir / "dbt_target"
    empty = workdir / "compileren" / f"{DATABASE}.duckdb"
    empty.parent.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "DVCC_WAREHOUSE_PATH": str(empty), "DBT_TARGET_PATH": str(target)}
    result = subprocess.run(
        [
            str(Path(sys.executable).with_name("dbt")),
            "compile",
            "--quiet",
            "--no-partial-parse",
            "--project-dir",
            str(DBT_PROJECT_DIR),
            "--profiles-dir",
            str(DBT_PROJECT_DIR),
            "--target-path",
            str(target),
            "--log-path",
            str(workdir / "dbt_logs"),
            "--select",
            "resource_type:model",
        ],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(f"dbt compile voor de vloer mislukte: {(result.stdout + result.stderr)[-2000:]}")
    manifest = json.loads((target / "manifest.json").read_text(encoding="utf-8"))
    return nodes_in_order(manifest)


def nodes_in_order(manifest: dict[str, object]) -> list[Node]:
    """Seeds and models of the manifest, each after the nodes it depends on."""
    raw_nodes: dict[str, dict[str, object]] = manifest["nodes"]  # type: ignore[assignment]
    wanted = {uid: node for uid, node in raw_nodes.items() if node["resource_type"] in ("seed", "model")}
    graph = {
        uid: [dep for dep in node["depends_on"].get("nodes", []) if dep in wanted]  # type: ignore[union-attr]
        for uid, node in wanted.items()
    }
    order = TopologicalSorter(graph).static_order()
    root = Path(str(manifest.get("metadata", {}).get("project_root", DBT_PROJECT_DIR)))  # type: ignore[union-attr]
    nodes = []
    for uid in order:
        node = wanted[uid]
        config = node["config"]  # type: ignore[index]
        if node["resource_type"] == "seed":
            nodes.append(
                Node(
                    unique_id=uid,
                    resource_type="seed",
                    schema=str(node["schema"]),
                    relation=str(node["relation_name"]),
                    materialized="seed",
                    seed_path=DBT_PROJECT_DIR / str(node["original_file_path"])
                    if (DBT_PROJECT_DIR / str(node["original_file_path"])).exists()
                    else root / str(node["original_file_path"]),
                    column_types=dict(config.get("column_types") or {}),  # type: ignore[union-attr]
                )
            )
        else:
            if "compiled_code" not in node:
                raise RuntimeError(f"{uid} heeft geen gecompileerde SQL in het manifest")
            nodes.append(
                Node(
                    unique_id=uid,
                    resource_type="model",
                    schema=str(node["schema"]),
                    relation=str(node["relation_name"]),
                    materialized=str(config["materialized"]),  # type: ignore[index]
                    sql=str(node["compiled_code"]),
                )
            )
    return nodes


# --- reading the files -------------------------------------------------------------------


def _latest_files(contract: FeedContract, folder: Path) -> list[tuple[Path, str, str, int]]:
    """(path, period, supplier, version) of the highest version per period and supplier."""
    best: dict[tuple[str, str], tuple[Path, str, str, int]] = {}
    for path in sorted(folder.glob("*")):
        identity = contract.identify(path.name) if path.is_file() else None
        if identity is None:
            continue
        key = (identity.period, identity.supplier)
        if key not in best or identity.version > best[key][3]:
            best[key] = (path, identity.period, identity.supplier, identity.version)
    return sorted(best.values())


def _csv_source(contract: FeedContract, paths: list[str]) -> tuple[str, dict[str, object]]:
    """`read_csv` over all of a feed's files with the contract's format and types."""
    fmt = contract.file
    date_formats = {c.date_format for c in contract.columns if c.date_format}
    nulls = sorted({marker for c in contract.columns for marker in c.null_markers} | {""})
    columns = {c.name: c.raw_type for c in contract.columns}
    options = [
        "header = true",
        "delim = $delim",
        "quote = $quote",
        "escape = $escape",
        "columns = $columns",
        "nullstr = $nulls",
        "filename = true",
    ]
    params: dict[str, object] = {
        "paths": paths,
        "delim": fmt.delimiter,
        "quote": fmt.quote,
        "escape": fmt.escape,
        "columns": columns,
        "nulls": nulls,
    }
    if fmt.decimal_separator != ".":
        options.append("decimal_separator = $decimal")
        params["decimal"] = fmt.decimal_separator
    if len(date_formats) == 1:
        options.append("dateformat = $dateformat")
        params["dateformat"] = date_formats.pop()
    elif date_formats:
        raise RuntimeError(f"{contract.feed_id}: meer dan één datumnotatie; de vloer leest er één per feed")
    select = f"SELECT *, filename AS {_FILE} FROM read_csv($paths, {', '.join(options)})"
    return select, params


def _xlsx_source(conn: duckdb.DuckDBPyConnection, contract: FeedContract, paths: list[str]) -> str:
    """All workbooks as one Arrow table with fastexcel (text for text and pseudonym columns)."""
    import fastexcel  # only for the Excel feed

    def dtype(raw_type: str) -> str:
        return "date" if raw_type == "DATE" else "float" if raw_type.startswith(("DECIMAL", "DOUBLE")) else "string"

    dtypes = {c.name: dtype(c.raw_type) for c in contract.columns}
    tables = []
    for path in paths:
        sheet = fastexcel.read_excel(path).load_sheet_by_name(contract.file.sheet_name, dtypes=dtypes)
        table = pa.table(sheet.to_arrow()).select(contract.column_names)
        tables.append(table.append_column(_FILE, pa.array([path] * table.num_rows, pa.string())))
    name = f"__vloer_{contract.feed_id}"
    conn.register(name, pa.concat_tables(tables, promote_options="permissive"))
    return f"SELECT * FROM {name}"


def _reference_outputs(contract: FeedContract) -> dict[str, str]:
    """SQL for the reference outputs the door writes (e.g. `_gemeentecode`), as scalar lookups."""
    out = {}
    for column in contract.columns:
        ref = column.reference
        if ref is None or not ref.output or not ref.column or not ref.output_column:
            continue
        value = f"trim(CAST(src.{quote_identifier(column.name)} AS VARCHAR))"
        seed_value = f"r.{quote_identifier(ref.column)}"
        if ref.match == "name":
            value = f"lower(regexp_replace({value}, '\\s+', ' ', 'g'))"
            seed_value = f"lower(regexp_replace(trim({seed_value}), '\\s+', ' ', 'g'))"
        out[ref.output] = (
            f"(SELECT any_value(r.{quote_identifier(ref.output_column)}) "
            f"FROM {DATABASE}.reference.{quote_identifier(ref.seed)} AS r WHERE {seed_value} = {value})"
        )
    return out


def load_feed(conn: duckdb.DuckDBPyConnection, contract: FeedContract, folder: Path) -> int:
    """One statement per feed: every file's rows into `raw.<feed>`, and the ledger rows."""
    files = _latest_files(contract, folder)
    if not files:
        return 0
    paths = [str(p) for p, *_ in files]
    conn.execute(
        "CREATE OR REPLACE TEMP TABLE __vloer_bestanden (pad VARCHAR, levering_id VARCHAR, "
        "bestandsnaam VARCHAR, periode VARCHAR, leverancier VARCHAR, versie INTEGER)"
    )
    conn.executemany(
        "INSERT INTO __vloer_bestanden VALUES (?, ?, ?, ?, ?, ?)",
        [
            [str(path), f"vloer-{contract.feed_id}-{n}", path.name, period, supplier, version]
            for n, (path, period, supplier, version) in enumerate(files)
        ],
    )
    if contract.file.format == "xlsx":
        source, params = _xlsx_source(conn, contract, paths), {}
    else:
        source, params = _csv_source(contract, paths)
    outputs = _reference_outputs(contract)
    targets, values = [], []
    for column in contract.columns:
        targets.append(quote_identifier(column.name))
        values.append(f"CAST(src.{quote_identifier(column.name)} AS {column.raw_type})")
    meta = {"_levering_id": "f.levering_id", "_periode": "f.periode", "_leverancier": "f.leverancier", "_rij": "0"}
    for name, _ in metadata_columns(contract):
        targets.append(quote_identifier(name))
        values.append(meta.get(name) or outputs[name])
    inserted = conn.execute(
        f"INSERT INTO {raw_table(contract)} ({', '.join(targets)}) "
        f"SELECT {', '.join(values)} FROM ({source}) AS src JOIN __vloer_bestanden AS f ON src.{_FILE} = f.pad",
        params,
    ).fetchone()[0]
    conn.execute(
        f"""INSERT INTO {LEDGER} (levering_id, feed, bestandsnaam, periode, leverancier, versie, status,
            rijen_totaal, rijen_geaccepteerd, rijen_afgekeurd, ontvangen_op, verwerkt_op)
        SELECT f.levering_id, $feed, f.bestandsnaam, f.periode, f.leverancier, f.versie, 'geaccepteerd',
            count(r._levering_id), count(r._levering_id), 0, now()::TIMESTAMP, now()::TIMESTAMP
        FROM __vloer_bestanden AS f LEFT JOIN {raw_table(contract)} AS r ON r._levering_id = f.levering_id
        GROUP BY ALL""",
        {"feed": contract.feed_id},
    )
    return int(inserted)


# --- the dbt SQL ---------------------------------------------------------------------------


def build_node(conn: duckdb.DuckDBPyConnection, node: Node) -> None:
    """A seed as a typed table from its CSV, a model as its compiled SELECT."""
    conn.execute(f"CREATE SCHEMA IF NOT EXISTS {DATABASE}.{quote_identifier(node.schema)}")
    if node.resource_type == "seed":
        conn.execute(
            f"CREATE OR REPLACE TABLE {node.relation} AS SELECT * FROM read_csv($path, header = true, types = $types)",
            {"path": str(node.seed_path), "types": node.column_types or {}},
        )
        return
    kind = "VIEW" if node.materialized == "view" else "TABLE"
    conn.execute(f"CREATE OR REPLACE {kind} {node.relation} AS {node.sql}")


def run_floor(landing: Path, database: Path, nodes: list[Node]) -> FloorTiming:
    """Read every feed's files from `landing` into a fresh `database`, then run `nodes`.

    The seeds come first: the door's reference outputs look names up in them.
    """
    if database.stem != DATABASE:
        raise ValueError(f"de vloer moet {DATABASE}.duckdb heten, niet {database.name}")
    database.parent.mkdir(parents=True, exist_ok=True)
    database.unlink(missing_ok=True)
    timing = FloorTiming()
    with duckdb.connect(str(database)) as conn:
        seeds = [n for n in nodes if n.resource_type == "seed"]
        start = time.perf_counter()
        for node in seeds:
            build_node(conn, node)
        seconds_seeds = time.perf_counter() - start
        start = time.perf_counter()
        ensure_raw_schema(conn)
        for contract in all_contracts():
            feed_start = time.perf_counter()
            load_feed(conn, contract, landing / contract.feed_id)
            timing.per_feed[contract.feed_id] = round(time.perf_counter() - feed_start, 2)
        timing.inlezen = time.perf_counter() - start
        start = time.perf_counter()
        for node in nodes:
            if node.resource_type != "seed":
                build_node(conn, node)
        conn.execute("CHECKPOINT")
        timing.dbt_sql = time.perf_counter() - start + seconds_seeds
    return timing


# --- the comparison ----------------------------------------------------------------------

_DIFF = """
SELECT (SELECT count(*) FROM (SELECT * FROM {a} EXCEPT ALL SELECT * FROM {b})),
       (SELECT count(*) FROM (SELECT * FROM {b} EXCEPT ALL SELECT * FROM {a})),
       (SELECT count(*) FROM {a}), (SELECT count(*) FROM {b})
"""


@dataclass(frozen=True)
class MartComparison:
    """Per published mart: rows only in the floor, rows only in the warehouse, row counts."""

    per_mart: dict[str, tuple[int, int, int, int]]

    @property
    def equal(self) -> bool:
        return all(only_floor == 0 and only_warehouse == 0 for only_floor, only_warehouse, *_ in self.per_mart.values())

    def differences(self) -> list[tuple[object, ...]]:
        return [
            ("mart", name, "rijen alleen in vloer / alleen in warehouse", only_floor, only_warehouse)
            for name, (only_floor, only_warehouse, *_) in self.per_mart.items()
            if only_floor or only_warehouse
        ]


def compare_marts(floor_database: Path, warehouse: Path) -> MartComparison:
    """Every published mart of the floor against the warehouse's, row for row (as multisets)."""
    names = [t.name for t in load_published_contract().mart_tables]
    out: dict[str, tuple[int, int, int, int]] = {}
    with duckdb.connect() as conn:
        conn.execute("ATTACH ? AS vl (READ_ONLY)", [str(floor_database)])
        conn.execute("ATTACH ? AS wh (READ_ONLY)", [str(warehouse)])
        for name in names:
            a, b = f"vl.marts.{quote_identifier(name)}", f"wh.marts.{quote_identifier(name)}"
            only_floor, only_warehouse, rows_floor, rows_warehouse = conn.execute(_DIFF.format(a=a, b=b)).fetchone()
            out[name] = (int(only_floor), int(only_warehouse), int(rows_floor), int(rows_warehouse))
    return MartComparison(out)
