"""One scan for a feed's many small CSV files: the row checks of every new file at once.

Checking a file costs mostly fixed work (planning the check statement, a read per file), so
a bank feed of hundreds of small files spent its time there. Here every new file of a feed
whose header already matches the contract is read by one multi-file `read_csv` (with
`filename`), checked by the one statement the contract generates (the delivery's period and
supplier travel per file) and counted per file with GROUP BY. The outcome per file is the
one :func:`validator.check_file` would give: the same counts, the same receipt lines.

Whatever the shared read cannot settle alone goes the per-file way, unchanged: a file whose
header, delimiter, size or encoding is wrong, a file with unparsable lines, possible personal
data, duplicate keys or no rows, and every file when the shared read fails. The door's
guarantees stay as they are: the batch reads the private copies (taken and journalled first),
and every ledger row, load and receipt is still written per file by :func:`ingest_delivery`.
"""

from __future__ import annotations

import contextlib
import logging
import re
import stat
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from dvcc_pipeline.config import Settings
from dvcc_pipeline.contracts import FeedContract, FileIdentity, contract_for_filename, load_partners, period_bounds
from dvcc_pipeline.ingestion import door
from dvcc_pipeline.ingestion.boxes import box_partner
from dvcc_pipeline.ingestion.completeness import cut_off_problem
from dvcc_pipeline.ingestion.door import DeliveryChanged, Fingerprint, Intake
from dvcc_pipeline.ingestion.landing import new_delivery_id
from dvcc_pipeline.ingestion.ledger import ensure_raw_schema
from dvcc_pipeline.ingestion.reader import csv_scan, drop_temp_objects, read_source
from dvcc_pipeline.ingestion.rows import CHECKED, CheckPlan, RowOutcome, detail_columns, plan_checks, row_problems
from dvcc_pipeline.ingestion.screen import PREFILTER
from dvcc_pipeline.ingestion.validator import CheckOutcome, verdict

log = logging.getLogger(__name__)

# Not `__dvcc_`: the per-file path drops those between files, the batch must outlive them.
_PREFIX = "__dvccbatch_"
_SRC = f"{_PREFIX}src"
_DATA = f"{_PREFIX}data"
_ROWS = f"{_PREFIX}checked"
_REJECTS = f"{_PREFIX}rejects"
_SCANS = f"{_PREFIX}scans"
_DELIVERY = ("periode_start", "periode_eind", "periode", "leverancier")
_DELIVERY_PARAMETER = re.compile(r"\$(" + "|".join(_DELIVERY) + r")\b")


@dataclass
class Batch:
    """The private copies taken for a feed's files and the outcomes of their shared check."""

    intakes: dict[Path, Intake] = field(default_factory=dict)
    """By landing path: copies taken ahead, handed to :func:`ingest_delivery` one by one."""
    outcomes: dict[Path, tuple[int, CheckOutcome]] = field(default_factory=dict)
    """By private copy: the file's number in the shared read and its outcome."""
    ready: bool = False
    """The folders and the raw schema were made once for all files."""

    def take(self, path: Path) -> Intake | None:
        return self.intakes.pop(path, None)

    def checked(self, conn: duckdb.DuckDBPyConnection, copy: Path) -> CheckOutcome | None:
        """The file's outcome, with its rows as `__dvcc_checked` for the loader; None: check it alone."""
        found = self.outcomes.get(copy)
        if found is None:
            return None
        number, outcome = found
        conn.execute(f"CREATE OR REPLACE TEMP VIEW {CHECKED} AS SELECT * FROM {_ROWS} WHERE __nr = {int(number)}")
        return outcome

    def close(self, conn: duckdb.DuckDBPyConnection) -> None:
        """Give back copies never used (the originals stay in landing) and drop the shared tables."""
        for intake in self.intakes.values():
            door.abandon(intake)
        self.intakes.clear()
        self.outcomes.clear()
        _drop(conn)


def _drop(conn: duckdb.DuckDBPyConnection) -> None:
    with contextlib.suppress(duckdb.Error):
        conn.execute(
            f"DROP VIEW IF EXISTS temp.main.{_ROWS}; DROP TABLE IF EXISTS temp.main.{_DATA}; "
            f"DROP TABLE IF EXISTS temp.main.{_SRC}; DROP TABLE IF EXISTS temp.main.{_REJECTS}; "
            f"DROP TABLE IF EXISTS temp.main.{_SCANS}"
        )


def _eligible(settings: Settings, contract: FeedContract, path: Path) -> FileIdentity | None:
    """The file's identity when the per-file path would check it against this CSV contract."""
    if contract.file.format != "csv" or ".." in path.name:
        return None
    try:
        if not stat.S_ISREG(path.lstat().st_mode):
            return None
    except OSError:
        return None
    found = contract_for_filename(path.name)
    if found is None or found[0].feed_id != contract.feed_id:
        return None
    partner = box_partner(settings, path)
    if partner is not None and partner.refusal(found[0], found[1]):
        return None
    return found[1]


def prepare(
    settings: Settings,
    conn: duckdb.DuckDBPyConnection,
    contract: FeedContract,
    pending: list[tuple[Path, Fingerprint]],
) -> Batch:
    """Take the private copies of a feed's CSV files and check together those that can be.

    Fewer than two files to share a read: nothing is taken ahead, each goes the usual way.
    """
    batch = Batch()
    candidates = [
        (path, settled, identity) for path, settled in pending if (identity := _eligible(settings, contract, path))
    ]
    if len(candidates) < 2:
        return batch
    settings.ensure_dirs(load_partners())
    ensure_raw_schema(conn)
    batch.ready = True
    try:
        _take_and_check(settings, conn, contract, candidates, batch)
    except BaseException:  # a fault while taking in: nothing taken ahead may stay behind
        batch.close(conn)
        raise
    return batch


def _take_and_check(
    settings: Settings,
    conn: duckdb.DuckDBPyConnection,
    contract: FeedContract,
    candidates: list[tuple[Path, Fingerprint, FileIdentity]],
    batch: Batch,
) -> None:
    shared: list[tuple[Intake, FileIdentity]] = []
    for path, settled, identity in candidates:
        try:
            intake = door.take(settings, path, new_delivery_id, settled)
        except (DeliveryChanged, OSError):
            continue  # the per-file path meets it again and reports it
        batch.intakes[path] = intake
        assert intake.copy is not None
        if cut_off_problem(intake.copy, contract) is not None:
            continue  # the per-file path rejects it as `onvolledig`
        try:
            source = read_source(conn, intake.copy, contract, settings.max_file_bytes)
        except (OSError, duckdb.Error):
            continue
        finally:
            drop_temp_objects(conn)
        if source.scan_sql is not None and len(source.header) == len(contract.columns):
            shared.append((intake, identity))
    if len(shared) < 2:
        return
    try:
        batch.outcomes = _check_together(conn, contract, shared)
    except duckdb.Error as exc:  # e.g. one line longer than DuckDB's limit: each file alone says which
        log.info("gezamenlijke controle van %d bestanden lukte niet (%s); per bestand verder", len(shared), exc)
        batch.outcomes = {}
        _drop(conn)


def _check_together(
    conn: duckdb.DuckDBPyConnection, contract: FeedContract, shared: list[tuple[Intake, FileIdentity]]
) -> dict[Path, tuple[int, CheckOutcome]]:
    """One read and one check statement for all files; per-file counts and receipt lines."""
    paths = [str(intake.copy) for intake, _ in shared]
    found = [period_bounds(identity.period, contract.file.period_grain) for _, identity in shared]
    bounds = [b for b in found if b is not None]
    if len(bounds) != len(shared):  # contract.identify() guarantees a valid period
        return {}
    first = bounds[0]
    scan, parameters = csv_scan(contract, len(contract.columns), _REJECTS, _SCANS, filename=True)
    parameters["path"] = paths
    _drop(conn)
    conn.execute(
        f"CREATE TEMP TABLE {_SRC} AS SELECT list_position($path, filename) AS __nr, * EXCLUDE (filename) "
        f"FROM ({scan})",
        parameters,
    )
    delivery = {
        "b_periode": [identity.period for _, identity in shared],
        "b_periode_start": [b[0] for b in bounds],
        "b_periode_eind": [b[1] for b in bounds],
        "b_leverancier": [identity.supplier for _, identity in shared],
    }
    carried = ", ".join(f"${name}[__nr] AS __{name}" for name in delivery)
    texts = ", ".join(f"c{i}" for i in range(len(contract.columns)))
    # The table keeps each file's lines in order, so a row's number is its place in its file.
    source = f"SELECT rowid - min(rowid) OVER (PARTITION BY __nr) + 2 AS __rij, __nr, {carried}, {texts} FROM {_SRC}"
    plan = plan_checks(
        conn,
        contract,
        source,
        True,
        "",
        first,  # the delivery values are columns here: `$periode` & co. are rewritten below
        "",
        PREFILTER,
        carry=("__nr", *(f"__{name}" for name in delivery)),
        table=_DATA,
    )
    statement = _DELIVERY_PARAMETER.sub(lambda m: f"__b_{m.group(1)}", plan.statement)
    conn.execute(statement, plan.sql.used(statement) | delivery)
    conn.execute(
        f"CREATE TEMP VIEW {_ROWS} AS SELECT *, {''.join(a + ', ' for a in plan.aliases)}{plan.ok} AS __ok FROM {_DATA}"
    )
    alone = {
        int(r[0])
        for r in conn.execute(
            f"SELECT DISTINCT list_position($path, s.file_path) FROM {_REJECTS} r JOIN {_SCANS} s "
            "USING (scan_id, file_id)",
            {"path": paths},
        ).fetchall()
    }
    for check in plan.checks:
        if check.unique_key is not None:  # duplicates are marked in file order by the per-file path
            key = check.unique_key
            alone |= {
                int(r[0])
                for r in conn.execute(
                    f"SELECT DISTINCT __nr FROM {_DATA} WHERE {key} IS NOT NULL GROUP BY __nr, {key} "
                    "HAVING count(*) > 1"
                ).fetchall()
            }
    return _outcomes(conn, contract, plan, shared, alone)


def _outcomes(
    conn: duckdb.DuckDBPyConnection,
    contract: FeedContract,
    plan: CheckPlan,
    shared: list[tuple[Intake, FileIdentity]],
    alone: set[int],
) -> dict[Path, tuple[int, CheckOutcome]]:
    """Per file the outcome :func:`validator.check_file` gives, for the files this read settles."""
    counts = [f"count_if({plan.failed(k)})" for k in range(len(plan.checks))]
    per_file = conn.execute(
        f"SELECT __nr, count(*), count_if(NOT __ok), count_if(__pii), {', '.join(counts) or '0'} "
        f"FROM {_ROWS} GROUP BY __nr"
    ).fetchall()
    failing = sorted({k for row in per_file for k, n in enumerate(row[4:]) if n})
    details: dict[int, dict[int, tuple[list[int], object]]] = {}
    if failing:
        columns = [c for k in failing for c in detail_columns(plan, k)]
        for row in conn.execute(
            f"SELECT __nr, {', '.join(columns)} FROM {_ROWS} WHERE NOT __ok GROUP BY __nr"
        ).fetchall():
            details[int(row[0])] = {k: (row[1 + 2 * n], row[2 + 2 * n]) for n, k in enumerate(failing)}
    outcomes = {}
    for row in per_file:
        number, total, invalid, pii = (int(x or 0) for x in row[:4])
        if number in alone or pii or total == 0:  # the per-file path screens, marks and explains these
            continue
        failed = [(k, int(n)) for k, n in enumerate(row[4:]) if n]
        problems = row_problems(plan, failed, details.get(number, {})) if failed else []
        rows = RowOutcome(total, invalid, problems, pii, 0)
        intake = shared[number - 1][0]
        assert intake.copy is not None
        outcomes[intake.copy] = (number, verdict(rows, contract, plan.outputs))
    return outcomes
