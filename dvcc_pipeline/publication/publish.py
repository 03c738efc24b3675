"""Build the next published.duckdb beside the live one and swap it in atomically.

Readers open `published.duckdb` read-only. The file is never written in place: the next
version is built under a temporary name in the same folder from the marts (through disclosure
control) and `os.replace` swaps it in, so an open reader keeps its snapshot (the old inode) and
the next reader sees the new version. The `publicatie` table is carried over from the live
file, so it keeps the history of every publication. Parquet copies and per-municipality
extracts are derived from the finished, suppressed file, never from the marts.

Every DuckDB file is written with the storage version of the oldest reader the contract
promises (`readerCompatibility`), not this DuckDB's own, so the DuckDB that BI tools and
notebooks embed can open it.
"""

from __future__ import annotations

import importlib.metadata
import os
import subprocess
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from dvcc_pipeline.config import REPO_ROOT, Settings, get_settings
from dvcc_pipeline.publication.contract import (
    PublishedContract,
    PublishedTable,
    identifier,
    load_published_contract,
)
from dvcc_pipeline.publication.control import ControlResult, protect_publication, store_path
from dvcc_pipeline.runtime.faults import checkpoint

PUBLICATION_TABLE = "publicatie"
ACCEPTED_STATUSES = ("geaccepteerd", "geaccepteerd_met_afkeur")
REGIONS_TABLE = "dim_gemeente"
REGISTRATIONS = ("intermediate", "int_meldingen")
PREVIEW_TABLE = "ind_delictsvormen_jaar"
PREVIEW_YEAR = 2024
# disclosure control's figures that go into the publicatie row (ControlResult.figures)
AUDIT_COLUMNS = (
    "cellen_afgerond",
    "cellen_veranderd",
    "aantallen_vastgepind",
    "aantallen_vastgepind_voor_hertrekking",
    "aantallen_klein_aangetoond",
    "bedragen_verborgen",
    "bedragen_te_smal",
    "hertrekrondes",
    "identiteiten",
    "duur_s",
)
# Every table takes at least one block; with DuckDB's default 256 kB blocks a small extract is
# as large as the whole publication. The smallest block size keeps extracts small and is read
# by every DuckDB the contract promises (the compatibility test opens one).
EXTRACT_BLOCK_SIZE = 16_384


@dataclass
class PublicationResult:
    """What one publication wrote; the Dagster asset shows it as metadata."""

    publicatie_id: str
    path: Path
    row_counts: dict[str, int]
    leveringen: int
    seconds: float
    preview_markdown: str = ""
    parquet: list[Path] = field(default_factory=list)
    control: ControlResult | None = None


def parquet_dir(settings: Settings) -> Path:
    return settings.published_dir / "parquet"


def extracts_dir(settings: Settings) -> Path:
    return settings.published_dir / "gemeenten"


def code_version() -> str:
    """Package version plus the commit, when the code runs from a git checkout."""
    version = importlib.metadata.version("dvcc-pipeline")
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=REPO_ROOT,
            capture_output=True,
            text=True,
            timeout=5,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        commit = ""
    return f"{version}+{commit}" if commit else version


def _relation_exists(conn: duckdb.DuckDBPyConnection, catalog: str, schema: str, name: str) -> bool:
    return bool(
        conn.execute(
            "SELECT count(*) FROM duckdb_tables() WHERE database_name = ? AND schema_name = ? AND table_name = ?",
            [catalog, schema, name],
        ).fetchone()[0]
    )


def _copy_table(conn: duckdb.DuckDBPyConnection, table: PublishedTable, source: str) -> None:
    """A table without disclosure rules: the contract's columns with the contract's types."""
    present = {row[0] for row in conn.execute(f"DESCRIBE SELECT * FROM {source}").fetchall()}
    missing = [c.name for c in table.columns if c.name not in present]
    if missing:
        raise ValueError(f"{table.name}: kolommen ontbreken in de mart: {', '.join(missing)}")
    columns = ", ".join(
        f"CAST({identifier(c.name)} AS {c.physical_type}) AS {identifier(c.name)}" for c in table.columns
    )
    order = ", ".join(identifier(c) for c in table.primary_key) or "1"
    conn.execute(f"CREATE TABLE main.{identifier(table.name)} AS SELECT {columns} FROM {source} ORDER BY {order}")


def _write_publication_row(
    conn: duckdb.DuckDBPyConnection,
    contract: PublishedContract,
    live: Path,
    publicatie_id: str,
    checks: tuple[int | None, int | None],
    code_versie: str,
    audit: dict[str, int | float | None],
) -> int:
    """Carry the history over from the live file and add this publication; returns #deliveries."""
    table = contract.table(PUBLICATION_TABLE)
    types = {c.name: c.physical_type for c in table.columns}
    columns = ", ".join(f"{identifier(name)} {kind}" for name, kind in types.items())
    conn.execute(f"CREATE TABLE main.{identifier(PUBLICATION_TABLE)} ({columns})")
    if live.exists():
        conn.execute("ATTACH ? AS vorige (READ_ONLY)", [str(live)])
        try:
            if _relation_exists(conn, "vorige", "main", PUBLICATION_TABLE):
                history = f"vorige.main.{identifier(PUBLICATION_TABLE)}"
                earlier = {r[0] for r in conn.execute(f"DESCRIBE {history}").fetchall()}
                kept = {name: kind for name, kind in types.items() if name in earlier}
                names = ", ".join(identifier(name) for name in kept)
                # Cast, so history written under an older contract (leveringen as JSON, no audit
                # columns) carries over.
                values = ", ".join(f"CAST({identifier(name)} AS {kind})" for name, kind in kept.items())
                conn.execute(
                    f"INSERT INTO main.{identifier(PUBLICATION_TABLE)} ({names}) "
                    f"SELECT {values} FROM vorige.main.{identifier(PUBLICATION_TABLE)}"
                )
        finally:
            conn.execute("DETACH vorige")
    leveringen: list[dict[str, str]] = []
    if _relation_exists(conn, "wh", "raw", "deliveries"):
        leveringen = conn.execute(
            """SELECT coalesce(list({'levering_id': levering_id, 'feed': feed, 'periode': periode,
                                      'sha256': sha256} ORDER BY levering_id), [])
               FROM wh.raw.deliveries WHERE list_contains(?, status)""",
            [list(ACCEPTED_STATUSES)],
        ).fetchone()[0]
    conn.execute(
        f"""INSERT INTO main.{identifier(PUBLICATION_TABLE)}
            (publicatie_id, gepubliceerd_op, code_versie, leveringen, checks_geslaagd, checks_totaal,
             {", ".join(AUDIT_COLUMNS)})
            VALUES (?, ?, ?, CAST(? AS {types["leveringen"]}), ?, ?, {", ".join("?" for _ in AUDIT_COLUMNS)})""",
        [
            publicatie_id,
            datetime.now(UTC).replace(tzinfo=None),
            code_versie,
            leveringen,
            checks[0],
            checks[1],
            *(audit.get(name) for name in AUDIT_COLUMNS),
        ],
    )
    return len(leveringen)


def _build(
    path: Path,
    settings: Settings,
    contract: PublishedContract,
    publicatie_id: str,
    checks: tuple[int | None, int | None],
    code_versie: str,
) -> tuple[int, ControlResult]:
    with duckdb.connect(str(path), config={"storage_compatibility_version": contract.storage_version}) as conn:
        conn.execute("ATTACH ? AS wh (READ_ONLY)", [str(settings.warehouse_path)])
        registrations = (
            f"wh.{identifier(REGISTRATIONS[0])}.{identifier(REGISTRATIONS[1])}"
            if _relation_exists(conn, "wh", *REGISTRATIONS)
            else None
        )
        sources = {t.name: f"wh.marts.{identifier(t.name)}" for t in contract.mart_tables}
        for table in contract.mart_tables:
            if not _relation_exists(conn, "wh", "marts", table.name):
                raise ValueError(f"mart {table.name} ontbreekt in het warehouse")
            if table.disclosure is None:
                _copy_table(conn, table, sources[table.name])
        control = protect_publication(
            conn,
            contract,
            sources=sources,
            targets={t.name: f"main.{identifier(t.name)}" for t in contract.mart_tables},
            regions=f"wh.marts.{identifier(REGIONS_TABLE)}",
            registrations=registrations,
            secret=settings.rounding_key,
            store=store_path(settings.warehouse_path),
        )
        if not control.passed:
            raise ValueError(f"onthullingscontrole faalt ({control.summary()}); de publicatie gaat niet door")
        deliveries = _write_publication_row(
            conn, contract, settings.published_path, publicatie_id, checks, code_versie, control.figures()
        )
        conn.execute("DETACH wh")
        conn.execute("CHECKPOINT")
    return deliveries, control


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _row_counts(path: Path, contract: PublishedContract) -> dict[str, int]:
    with duckdb.connect(str(path), read_only=True) as conn:
        return {
            t.name: int(conn.execute(f"SELECT count(*) FROM main.{identifier(t.name)}").fetchone()[0])
            for t in contract.tables
        }


def _write_parquet(path: Path, settings: Settings, contract: PublishedContract) -> list[Path]:
    """Each table as Parquet, each file swapped in by rename."""
    folder = parquet_dir(settings)
    folder.mkdir(parents=True, exist_ok=True)
    staged: list[tuple[Path, Path]] = []
    with duckdb.connect(str(path), read_only=True) as conn:
        for table in contract.tables:
            final = folder / f"{table.name}.parquet"
            temporary = folder / f".{table.name}.{uuid.uuid4().hex}.parquet"
            conn.execute(f"COPY main.{identifier(table.name)} TO '{temporary}' (FORMAT parquet)")
            staged.append((temporary, final))
    for temporary, final in staged:
        os.replace(temporary, final)
    return [final for _, final in staged]


def preview_markdown(path: Path, year: int = PREVIEW_YEAR) -> str:
    """The eenheid's overview per delictsvorm for one year (the latest when `year` is absent)."""
    with duckdb.connect(str(path), read_only=True) as conn:
        rows = conn.execute(
            f"""WITH t AS (SELECT * FROM main.{identifier(PREVIEW_TABLE)} WHERE regio_niveau = 'eenheid'),
                     j AS (SELECT coalesce(max(jaar) FILTER (WHERE jaar = ?), max(jaar)) AS jaar FROM t)
                SELECT t.jaar, t.regio_naam, t.delictsvorm, t.aangiften, t.schadebedrag_eur, t.meldingen_bank,
                       t.meldingen_fraudehelpdesk, t.rang
                FROM t JOIN j USING (jaar) ORDER BY t.rang NULLS LAST, t.aangiften DESC, t.delictsvorm""",
            [year],
        ).fetchall()
    if not rows:
        return "_Geen gegevens op eenheidsniveau._"

    def cell(value: object) -> str:
        return "–" if value is None else str(value)

    header = (
        f"**{rows[0][1]}, {rows[0][0]}**\n\n"
        "| delictsvorm | aangiften | schade (€) | meldingen bank | meldingen Fraudehelpdesk | rang |\n"
        "| --- | ---: | ---: | ---: | ---: | ---: |\n"
    )
    return header + "\n".join(f"| {' | '.join(cell(v) for v in row[2:])} |" for row in rows)


def publish(
    settings: Settings | None = None,
    *,
    checks_passed: int | None = None,
    checks_total: int | None = None,
    code_versie: str | None = None,
    contract: PublishedContract | None = None,
) -> PublicationResult:
    """Publish the marts: build, fsync and swap published.duckdb, then its Parquet copies."""
    started = time.perf_counter()
    settings = settings or get_settings()
    contract = contract or load_published_contract()
    settings.published_dir.mkdir(parents=True, exist_ok=True)
    publicatie_id = f"{datetime.now(UTC):%Y%m%dT%H%M%SZ}-{uuid.uuid4().hex[:8]}"
    next_path = settings.published_dir / f".published.{publicatie_id}.duckdb"
    try:
        deliveries, control = _build(
            next_path, settings, contract, publicatie_id, (checks_passed, checks_total), code_versie or code_version()
        )
        row_counts = _row_counts(next_path, contract)
        preview = preview_markdown(next_path)
        _fsync(next_path)
        checkpoint("publicatie")
        os.replace(next_path, settings.published_path)
    finally:
        for leftover in (next_path, next_path.with_name(next_path.name + ".wal")):
            leftover.unlink(missing_ok=True)
    parquet = _write_parquet(settings.published_path, settings, contract)
    return PublicationResult(
        publicatie_id=publicatie_id,
        path=settings.published_path,
        row_counts=row_counts,
        leveringen=deliveries,
        seconds=round(time.perf_counter() - started, 3),
        preview_markdown=preview,
        parquet=parquet,
        control=control,
    )


def _own_regions(conn: duckdb.DuckDBPyConnection) -> list[tuple[str, str, str, str]]:
    return conn.execute(
        f"SELECT gemeentecode, basisteam, district, eenheid FROM pub.main.{identifier(REGIONS_TABLE)} ORDER BY 1"
    ).fetchall()


def _extract_filter(table: PublishedTable) -> str:
    """Rows a municipality may see: its own, its basisteam's and district's, and rows of levels
    above those (the eenheid, the country); no row of another municipality or its regions."""
    region = table.region
    if region is None:
        return "true"
    code = identifier(region.code_column)
    if region.level_column is None:
        return f"CAST({code} AS VARCHAR) = $gemeente"
    level = identifier(region.level_column)
    return (
        f"(NOT list_contains($beschermd, {level}) "
        f"OR list_contains($eigen, {level} || chr(31) || CAST({code} AS VARCHAR)))"
    )


def write_municipality_extracts(
    settings: Settings | None = None, contract: PublishedContract | None = None
) -> dict[str, Path]:
    """One `gemeenten/<gemeentecode>.duckdb` per municipality, cut from the published file: each
    written fresh (new file, only its rows) and swapped in by rename."""
    settings = settings or get_settings()
    contract = contract or load_published_contract()
    folder = extracts_dir(settings)
    folder.mkdir(parents=True, exist_ok=True)
    hierarchy = contract.policy.region_hierarchy
    protected = list(hierarchy[:-1])
    written: dict[str, Path] = {}
    with duckdb.connect(":memory:") as conn:
        conn.execute("ATTACH ? AS pub (READ_ONLY)", [str(settings.published_path)])
        for gemeente, basisteam, district, _eenheid in _own_regions(conn):
            if not gemeente.replace("GM", "").isdigit():
                raise ValueError(f"ongeldige gemeentecode in dim_gemeente: {gemeente!r}")
            final = folder / f"{gemeente}.duckdb"
            temporary = folder / f".{gemeente}.{uuid.uuid4().hex}.duckdb"
            own = [f"{lvl}\x1f{code}" for lvl, code in zip(hierarchy, (gemeente, basisteam, district), strict=False)]
            conn.execute(
                f"ATTACH ? AS uit (STORAGE_VERSION '{contract.storage_version}', BLOCK_SIZE {EXTRACT_BLOCK_SIZE})",
                [str(temporary)],
            )
            try:
                conn.execute("BEGIN TRANSACTION")  # one commit per file, not one per table
                for table in contract.tables:
                    condition = _extract_filter(table)
                    params = {"gemeente": gemeente, "beschermd": protected, "eigen": own}
                    used = {k: v for k, v in params.items() if f"${k}" in condition}
                    conn.execute(
                        f"CREATE TABLE uit.main.{identifier(table.name)} AS "
                        f"SELECT * FROM pub.main.{identifier(table.name)} WHERE {condition}",
                        used,
                    )
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            finally:
                conn.execute("DETACH uit")
            os.replace(temporary, final)
            written[gemeente] = final
    return written
