"""Checking a feed's files together gives what checking them one by one gives, byte for byte.

Two homes get the same demo deliveries (a slice of the generated demo, its designed bad files,
its second wave) plus crafted bad bank files. One takes them in file by file, the other with
the feed's files checked in one statement (`ingestion.batch`). Receipts (JSON and Markdown),
ledger rows, loaded rows and the archive and quarantine must be the same, apart from the
delivery ids and times that differ per run.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import duckdb
import pytest

from dvcc_pipeline.config import FEEDS, get_settings
from dvcc_pipeline.contracts import load_contract, load_partners
from dvcc_pipeline.demo import generate
from dvcc_pipeline.demo.generator import WAVE2_DIR
from dvcc_pipeline.ingestion import ingest_delivery, scan_landing
from dvcc_pipeline.ingestion.batch import prepare
from dvcc_pipeline.ingestion.door import Fingerprint

BANK = "bank_fraudemeldingen"
_DELIVERY_ID = re.compile(r"\d{8}T\d{12}Z-[0-9a-f]{8}")
_TIME = re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(\.\d+)?|datetime\.datetime\([^)]*\)")


def _normalised(text: str) -> str:
    return _TIME.sub("<tijd>", _DELIVERY_ID.sub("<levering>", text))


def _crafted(bank: Path) -> None:
    """Bad bank files next to the demo's own: each must be rejected (or flagged) alone."""

    def edit(name: str, change) -> None:
        path = bank / name
        path.write_bytes(change(path.read_bytes()))

    lines = lambda data: data.split(b"\r\n")  # noqa: E731
    join = b"\r\n".join
    edit("bank_ABNA_2023-01.csv", lambda d: d.replace(b"kanaal", b"kanaaltje", 1))
    edit("bank_ABNA_2023-02.csv", lambda d: d.replace(b";", b"|"))
    edit("bank_ABNA_2023-03.csv", lambda d: join([*lines(d)[:3], lines(d)[3] + b"\xff\xfe", *lines(d)[4:]]))
    edit(
        "bank_ABNA_2023-04.csv",
        lambda d: join([lines(d)[0], *(re.sub(rb";\d\d-", b";45-", x, count=1) for x in lines(d)[1:])]),
    )
    edit("bank_ABNA_2023-05.csv", lambda d: join([*lines(d)[:3], lines(d)[2], *lines(d)[3:]]))
    edit(
        "bank_ABNA_2023-06.csv",
        lambda d: join([*lines(d)[:2], lines(d)[2].replace(b";particulier;", b";j.jansen@example.nl;"), *lines(d)[3:]]),
    )
    edit("bank_ABNA_2023-07.csv", lambda d: d.rstrip(b"\r\n")[:-7])
    edit("bank_ABNA_2023-08.csv", lambda d: lines(d)[0] + b"\r\n")
    edit("bank_ABNA_2023-09.csv", lambda d: join([*lines(d)[:2], lines(d)[2].replace(b";ABNA;", b";;"), *lines(d)[3:]]))
    edit("bank_ABNA_2023-10.csv", lambda d: join([*lines(d)[:2], lines(d)[2] + b";extra", *lines(d)[3:]]))
    edit("bank_ABNA_2023-12.csv", lambda d: b"")


@pytest.fixture(scope="module")
def deliveries(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A slice of the demo's deliveries (both waves) with crafted bad files."""
    source = tmp_path_factory.mktemp("bron")
    generate(source, scale=0.2, seed=2025)
    bank = source / "landing" / BANK
    keep = re.compile(r"bank_(ABNA_2023-\d\d|[A-Z]{4}_2024-(0[45]|11)|KNAB_2025-02)\.csv")
    for path in bank.iterdir():
        if not keep.fullmatch(path.name):
            path.unlink()
    for feed in ("fraudehelpdesk_meldingen", "veiligheidsmonitor"):  # not CSV: never batched
        shutil.rmtree(source / "landing" / feed)
    _crafted(bank)
    return source


def _take_in(home: Path, source: Path, monkeypatch: pytest.MonkeyPatch, together: bool) -> list[int]:
    """Both waves through the door; the number of files the shared check settled per feed."""
    shutil.copytree(source / "landing", home / "landing")
    monkeypatch.setenv("DVCC_HOME", str(home))
    settings = get_settings()
    settings.ensure_dirs(load_partners())
    settled: list[int] = []
    with duckdb.connect(str(settings.warehouse_path)) as conn:
        for wave in (1, 2):
            if wave == 2:
                for path in (source / WAVE2_DIR).rglob("*.csv"):
                    shutil.copy2(path, settings.landing_for(path.parent.name) / path.name)
            for feed_id in FEEDS:
                pending = [(d.path, Fingerprint.of(d.path)) for d in scan_landing(settings, feed_id).deliveries]
                batch = prepare(settings, conn, load_contract(feed_id), pending) if together else None
                settled.append(len(batch.outcomes) if batch else 0)
                try:
                    for path, fingerprint in pending:
                        ingest_delivery(settings, conn, path, settled=fingerprint, batch=batch)
                finally:
                    if batch:
                        batch.close(conn)
    return settled


def _state(home: Path) -> dict[str, object]:
    receipts = {
        _normalised(str(p.relative_to(home))): _normalised(p.read_text(encoding="utf-8").replace(str(home), "<home>"))
        for p in sorted((home / "receipts").rglob("*"))
        if p.is_file()
    }
    stored = sorted(
        _normalised(str(p.relative_to(home)))
        for folder in ("archive", "quarantine", "quarantine_restricted")
        if (home / folder).exists()
        for p in (home / folder).rglob("*")
        if p.is_file()
    )
    with duckdb.connect(str(home / "warehouse" / "dvcc.duckdb"), read_only=True) as conn:
        ledger = [
            _normalised(repr(row).replace(str(home), "<home>"))
            for row in conn.execute(
                "SELECT * EXCLUDE (levering_id) FROM raw.deliveries ORDER BY bestandsnaam, sha256, status"
            ).fetchall()
        ]
        loaded = {
            feed_id: conn.execute(f"SELECT * EXCLUDE (_levering_id) FROM raw.{feed_id} ORDER BY ALL").fetchall()
            for feed_id in FEEDS
            if conn.execute(
                "SELECT count(*) FROM duckdb_tables() WHERE schema_name = 'raw' AND table_name = $t", {"t": feed_id}
            ).fetchone()[0]
        }
    return {"receipts": receipts, "stored": stored, "ledger": ledger, "loaded": loaded}


def test_checked_together_equals_checked_one_by_one(
    deliveries: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DVCC_SETTLE_SECONDS", "0")
    alone = tmp_path / "alone"
    together = tmp_path / "together"
    _take_in(alone, deliveries, monkeypatch, together=False)
    settled = _take_in(together, deliveries, monkeypatch, together=True)
    bank_wave1 = settled[list(FEEDS).index(BANK)]
    assert bank_wave1 >= 20, settled  # most bank files were settled by the shared check

    first, second = _state(alone), _state(together)
    assert first["receipts"].keys() == second["receipts"].keys()
    for name, text in first["receipts"].items():
        assert second["receipts"][name] == text, name
    assert first["stored"] == second["stored"]
    assert first["ledger"] == second["ledger"]
    assert first["loaded"] == second["loaded"]
    statuses = " ".join(first["ledger"])  # the crafted files really reached the verdicts they were made for
    for status in ("afgekeurd", "geaccepteerd_met_afkeur", "duplicaat", "vervangen"):
        assert f"'{status}'" in statuses, status
    # nothing taken ahead was left behind: no copies, no journal entries
    assert not any((together / ".inname").iterdir()) if (together / ".inname").exists() else True


def test_a_file_the_shared_read_cannot_take_is_checked_alone(
    deliveries: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A line longer than DuckDB's limit: that file (or the whole batch) goes the per-file way."""
    monkeypatch.setenv("DVCC_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("DVCC_SETTLE_SECONDS", "0")
    settings = get_settings()
    settings.ensure_dirs(load_partners())
    landing = settings.landing_for(BANK)
    names = ["bank_INGB_2024-04.csv", "bank_RABO_2024-04.csv", "bank_ABNA_2024-04.csv"]
    for name in names:
        shutil.copy2(deliveries / "landing" / BANK / name, landing / name)
    long_line = landing / names[0]
    data = long_line.read_bytes().split(b"\r\n")
    long_line.write_bytes(b"\r\n".join([*data[:2], data[2] + b"x" * (5 << 20), *data[3:]]))
    pending = [(landing / name, Fingerprint.of(landing / name)) for name in names]
    with duckdb.connect(str(settings.warehouse_path)) as conn:
        batch = prepare(settings, conn, load_contract(BANK), pending)
        try:
            checked = {intake.source.name for intake in batch.intakes.values() if intake.copy in batch.outcomes}
            assert names[0] not in checked
            receipts = [ingest_delivery(settings, conn, path, settled=seen, batch=batch) for path, seen in pending]
        finally:
            batch.close(conn)
    assert [r.status for r in receipts] == ["afgekeurd", "geaccepteerd", "geaccepteerd"]
    assert not list(settings.intake_dir.iterdir())  # no private copy or journal entry left behind
