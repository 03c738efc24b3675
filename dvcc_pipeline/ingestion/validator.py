"""The one validator: steps 3–5 of governance.md for one file against one contract.

`check_file` leaves the accepted rows in the temp table `__dvcc_checked` (column `__ok`)
on the caller's connection so the loader can insert them without reading the file again.
`validate_file` runs the same checks on a private in-memory database for `dvcc validate`.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from dvcc_pipeline.contracts import (
    FeedContract,
    FileIdentity,
    Partner,
    all_contracts,
    contract_for_filename,
    load_contract,
    period_bounds,
)
from dvcc_pipeline.ingestion.boxes import refusal
from dvcc_pipeline.ingestion.completeness import cut_off_problem
from dvcc_pipeline.ingestion.reader import (
    REJECTS,
    SRC,
    drop_temp_objects,
    read_source,
    structure_problems,
)
from dvcc_pipeline.ingestion.receipt import (
    ACCEPTED,
    ACCEPTED_WITH_REJECTS,
    REJECTED,
    Problem,
    Receipt,
    shown_value,
)
from dvcc_pipeline.ingestion.rows import CHECKED, RowOutcome, plan_checks, run_checks, summarise
from dvcc_pipeline.ingestion.screen import PREFILTER, screen_personal_data


@dataclass
class CheckOutcome:
    status: str
    rows_total: int = 0
    rows_accepted: int = 0
    rows_rejected: int = 0
    problems: list[Problem] = field(default_factory=list)
    personal_data: bool = False
    outputs: dict[str, str] = field(default_factory=dict)


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 22):
            digest.update(chunk)
    return digest.hexdigest()


def name_problem(contract: FeedContract | None, file_name: str) -> Problem:
    """The receipt line for a file whose name matches no delivery pattern."""
    if contract is None:
        examples = ", ".join(f"`{c.file.name_example}`" for c in all_contracts())
        expected = f"een bestandsnaam volgens een van de datacontracten, zoals {examples}"
    else:
        expected = f"een naam volgens het contract {contract.feed_id}: {contract.name_in_words()}"
    return Problem(
        "onbekende_bestandsnaam",
        None,
        f"`{shown_value(file_name, 80)}` is geen geldige leveringsnaam; verwacht {expected}",
    )


def _no_rows() -> Problem:
    return Problem("geen_gegevensrijen", None, "het bestand bevat alleen een kop en geen gegevensrijen")


def check_file(
    conn: duckdb.DuckDBPyConnection,
    path: Path,
    contract: FeedContract,
    identity: FileIdentity,
    max_bytes: int | None = None,
) -> CheckOutcome:
    """File checks, personal-data screen and row checks; never raises on partner input.

    Leaves `__dvcc_checked` (with `__ok`) behind when the file passed the file checks.
    """
    drop_temp_objects(conn)
    cut_off = cut_off_problem(path, contract)
    if cut_off is not None:  # a stalled upload: never accepted in part
        return CheckOutcome(REJECTED, problems=[cut_off])
    source = read_source(conn, path, contract, max_bytes)
    bounds = period_bounds(identity.period, contract.file.period_grain)
    if bounds is None:  # contract.identify() guarantees a valid period
        raise ValueError(f"ongeldige periode {identity.period}")
    if source.scan_sql is None:
        # Excel, or a CSV whose header is already wrong: screen what could be read.
        personal = screen_personal_data(conn, source.header) if source.readable else []
        if personal:
            return CheckOutcome(REJECTED, source.rows, 0, source.rows, personal, personal_data=True)
        if source.problems or not source.readable:
            return CheckOutcome(REJECTED, source.rows, 0, source.rows, source.problems)
        scan, parameters, row_numbers = f"SELECT * FROM {SRC}", {}, True
    else:
        scan, parameters, row_numbers = source.scan_sql, source.scan_parameters, False
    plan = plan_checks(conn, contract, scan, row_numbers, identity.period, bounds, identity.supplier, PREFILTER)
    try:
        run_checks(conn, plan, row_numbers, parameters)
    except duckdb.Error as exc:  # e.g. a line longer than DuckDB's limit
        reason = shown_value(str(exc).splitlines()[0] if str(exc) else type(exc).__name__, 120)
        problem = Problem("onleesbaar", None, f"het bestand kan niet worden gelezen: {reason}")
        return CheckOutcome(REJECTED, problems=[problem])
    rows = summarise(conn, plan, REJECTS if source.scan_sql else None)
    personal = []
    if rows.rows_pii:
        personal = screen_personal_data(conn, source.header, prefiltered=f"(SELECT * FROM {CHECKED} WHERE __pii)")
    if personal:
        return CheckOutcome(REJECTED, rows.rows_total, 0, rows.rows_total, personal, personal_data=True)
    structure = structure_problems(conn, path) if rows.lines_rejected else []
    if structure:
        return CheckOutcome(REJECTED, rows.rows_total, 0, rows.rows_total, structure)
    return verdict(rows, contract, plan.outputs)


def verdict(rows: RowOutcome, contract: FeedContract, outputs: dict[str, str]) -> CheckOutcome:
    """The delivery's status from its row checks (after the personal-data and structure steps)."""
    if rows.rows_total == 0:
        return CheckOutcome(REJECTED, problems=[_no_rows()])
    problems = rows.problems
    valid = rows.rows_total - rows.rows_invalid
    share = rows.rows_invalid / rows.rows_total
    if share > contract.invalid_row_threshold:
        problems.insert(
            0,
            Problem(
                "drempel_overschreden",
                None,
                f"{rows.rows_invalid} van de {rows.rows_total} rijen ({share:.1%}) zijn ongeldig; "
                f"boven {contract.invalid_row_threshold:.0%} wordt de hele levering afgekeurd",
                [],
                rows.rows_invalid,
            ),
        )
        return CheckOutcome(REJECTED, rows.rows_total, 0, rows.rows_total, problems)
    status = ACCEPTED_WITH_REJECTS if rows.rows_invalid else ACCEPTED
    return CheckOutcome(status, rows.rows_total, valid, rows.rows_invalid, problems, outputs=outputs)


def validate_file(path: Path, contract_id: str | None = None, partner: Partner | None = None) -> Receipt:
    """Run every check on a file without touching DVCC_HOME (for `dvcc validate`); with a
    partner, first whether the name fits that partner's box, as the intake would decide."""
    path = Path(path)
    if partner is not None and contract_id is None and contract_for_filename(path.name) is None:
        contract_id = partner.feeds[0]  # the expected name of the partner's own feed
    contract = load_contract(contract_id) if contract_id else None
    identity = contract.identify(path.name) if contract else None
    if contract is None:
        found = contract_for_filename(path.name)
        if found:
            contract, identity = found
    receipt = Receipt(delivery_id=None, feed_id=contract.feed_id if contract else None, file_name=path.name)
    if contract is None or identity is None or not path.is_file():
        problem = name_problem(contract, path.name)
        if not path.is_file():
            problem = Problem("geen_bestand", None, f"`{shown_value(path.name)}` is geen gewoon bestand")
        receipt.problems = [problem]
        return receipt
    receipt.period, receipt.supplier, receipt.version = (
        identity.period,
        identity.supplier,
        identity.version,
    )
    if partner is not None:
        receipt.partner = partner.id
        refused = refusal(partner, contract, identity)
        if refused is not None:
            receipt.problems = [refused]
            return receipt
    receipt.contract_version = contract.version
    receipt.sha256 = sha256_of(path)
    conn = duckdb.connect()
    conn.execute("SET enable_progress_bar = false")
    try:
        outcome = check_file(conn, path, contract, identity)
    finally:
        conn.close()
    receipt.status = outcome.status
    receipt.rows_total = outcome.rows_total
    receipt.rows_accepted = outcome.rows_accepted
    receipt.rows_rejected = outcome.rows_rejected
    receipt.problems = outcome.problems
    receipt.restricted = outcome.personal_data
    return receipt
