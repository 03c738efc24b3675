"""`ingest_delivery` and the landing protocol against a real DVCC_HOME and DuckDB file."""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import stat
from pathlib import Path

import duckdb
import pytest
from conftest import fresh_home
from test_ingestion_samples import (
    POLICE,
    PROGRAMME,
    VM,
    csv_bytes,
    header,
    police_rows,
    programme_rows,
    write_police,
    write_programme,
    write_vm,
)

from dvcc_pipeline.config import Settings
from dvcc_pipeline.ingestion import ingest_delivery, quarantine_stray, scan_landing


@pytest.fixture
def settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    return fresh_home(tmp_path, monkeypatch, settle_seconds="0")


def files_under(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file() or p.is_symlink())


def raw_rows(conn: duckdb.DuckDBPyConnection, feed: str) -> list[tuple]:
    return conn.execute(f"SELECT * FROM raw.{feed} ORDER BY _levering_id, _rij").fetchall()


def test_accepted_delivery_is_loaded_pseudonymised_and_archived_read_only(settings, conn) -> None:
    landing = settings.landing_for(POLICE)
    rows = police_rows(20)
    path = write_police(landing, rows)
    receipt = ingest_delivery(settings, conn, path)
    assert receipt.status == "geaccepteerd" and receipt.exit_code == 0
    assert list(landing.iterdir()) == []
    archived = receipt.archive_path
    assert archived.parent == settings.archive_dir / POLICE / "2024Q3"
    assert archived.name == f"{receipt.delivery_id}__politie_registraties_2024Q3.csv"
    assert stat.S_IMODE(archived.stat().st_mode) == 0o444
    loaded = conn.execute(
        "SELECT registratie_id, _rij, _periode, _leverancier, schadebedrag_eur "
        "FROM raw.politie_registraties ORDER BY _rij"
    ).fetchall()
    expected_id = hmac.new(b"test-sleutel", rows[0]["registratie_id"].encode(), hashlib.sha256)
    assert loaded[0][:4] == (expected_id.hexdigest(), 2, "2024Q3", "politie")
    assert str(loaded[0][4]) == rows[0]["schadebedrag_eur"]
    assert len(loaded) == 20
    ledger = conn.execute(
        "SELECT status, rijen_geaccepteerd, sha256, contractversie, archiefpad FROM raw.deliveries"
    ).fetchall()
    assert ledger == [("geaccepteerd", 20, receipt.sha256, "1.0.0", str(archived))]
    stored = json.loads(receipt.receipt_path.read_text())
    assert stored["status"] == "geaccepteerd"
    assert receipt.receipt_path.with_suffix(".md").read_text().startswith("# Ontvangstbewijs")


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("Melder heeft BSN 111222333 genoemd", "burgerservicenummer"),
        ("terugbellen via j.jansen@example.nl", "e-mailadres"),
        ("rekening NL91 ABNA 0417 1643 00 geblokkeerd", "IBAN"),
        ("bel terug op 06-12345678", "telefoonnummer"),
    ],
)
def test_personal_data_in_free_text_goes_to_restricted_quarantine(settings, conn, text: str, kind: str) -> None:
    rows = programme_rows(10)
    rows[6]["omschrijving"] = text
    path = write_programme(settings.landing_for(PROGRAMME), rows)
    receipt = ingest_delivery(settings, conn, path)
    assert receipt.status == "afgekeurd"
    found = [p for p in receipt.problems if p.code == "persoonsgegevens"]
    assert {(p.column, tuple(p.rows)) for p in found} == {("omschrijving", (8,))}
    assert any(kind in p.message for p in found)
    assert receipt.archive_path.parent == settings.restricted_quarantine_dir / PROGRAMME
    for written in (receipt.receipt_path, receipt.receipt_path.with_suffix(".md")):
        content = written.read_text()
        assert text.split()[-1] not in content and text not in content
    assert raw_rows(conn, PROGRAMME) == []
    assert files_under(settings.quarantine_dir) == []


def test_extra_bsn_column_with_wrong_header_lands_in_restricted_quarantine(settings, conn) -> None:
    rows = [r | {"bsn": "111222333"} for r in police_rows(5)]
    path = settings.landing_for(POLICE) / "politie_registraties_2024Q3.csv"
    path.write_bytes(csv_bytes([*header(POLICE), "bsn"], rows))
    receipt = ingest_delivery(settings, conn, path)
    assert receipt.status == "afgekeurd"
    assert {(p.code, p.column) for p in receipt.problems} == {("persoonsgegevens", "bsn")}
    assert receipt.archive_path.parent == settings.restricted_quarantine_dir / POLICE
    assert "111222333" not in receipt.receipt_path.read_text()


def test_landing_scan_ignores_temporary_and_unsettled_files(settings) -> None:
    landing = settings.landing_for(POLICE)
    part = write_police(landing, name="politie_registraties_2024Q3.csv.part")
    hidden = write_police(landing, name=".politie_registraties_2024Q3.csv")
    ready = write_police(landing, name="politie_registraties_2024Q2.csv")
    fresh = write_police(landing, name="politie_registraties_2024Q4.csv")
    old = ready.stat().st_mtime - 60
    os.utime(ready, (old, old))
    scan = scan_landing(settings.__class__(**{**settings.__dict__, "settle_seconds": 10.0}), POLICE)
    assert [d.name for d in scan.deliveries] == ["politie_registraties_2024Q2.csv"]
    assert scan.strays == []
    assert part.exists() and hidden.exists() and fresh.exists()


def test_strays_symlink_dotdot_name_and_folder_are_quarantined_not_followed(settings, conn, tmp_path: Path) -> None:
    landing = settings.landing_for(POLICE)
    secret = tmp_path / "geheim.csv"
    secret.write_text("niet lezen")
    (landing / "politie_registraties_2024Q3.csv").symlink_to(secret)
    write_police(landing, name="politie_registraties_2024Q3..csv")
    (landing / "submap").mkdir()
    write_police(landing, name="politie_registraties_2024Q3.xlsx")
    scan = scan_landing(settings, POLICE)
    assert scan.deliveries == []
    assert len(scan.strays) == 4
    receipts = [quarantine_stray(settings, conn, POLICE, p) for p in scan.strays]
    assert list(landing.iterdir()) == []
    assert secret.read_text() == "niet lezen"
    for receipt in receipts:
        assert receipt.status == "afgekeurd"
        assert "politie_registraties_2024Q3.csv" in receipt.problems[0].message  # the example name
        assert receipt.archive_path.parent == settings.quarantine_dir / POLICE
        assert ".." not in receipt.archive_path.name
    link = next(r.archive_path for r in receipts if r.archive_path.is_symlink())
    assert os.readlink(link) == str(secret)


def test_correction_replaces_period_and_marks_previous_replaced(settings, conn) -> None:
    landing = settings.landing_for(POLICE)
    first = ingest_delivery(settings, conn, write_police(landing, police_rows(20)))
    corrected = police_rows(30)
    second = ingest_delivery(
        settings, conn, write_police(landing, corrected, name="politie_registraties_2024Q3_v2.csv")
    )
    assert second.status == "geaccepteerd" and second.version == 2
    assert "vervangt_levering" in {p.code for p in second.problems}
    loaded = conn.execute("SELECT _levering_id, count(*) FROM raw.politie_registraties GROUP BY 1").fetchall()
    assert loaded == [(second.delivery_id, 30)]
    ledger = dict(conn.execute("SELECT levering_id, status FROM raw.deliveries").fetchall())
    assert ledger == {first.delivery_id: "vervangen", second.delivery_id: "geaccepteerd"}
    replaced_by = conn.execute(
        "SELECT vervangen_door FROM raw.deliveries WHERE levering_id = $id",
        {"id": first.delivery_id},
    ).fetchone()[0]
    assert replaced_by == second.delivery_id


def test_failed_correction_keeps_previous_version(settings, conn) -> None:
    landing = settings.landing_for(POLICE)
    first = ingest_delivery(settings, conn, write_police(landing, police_rows(20)))
    bad = police_rows(20)
    for row in bad[:5]:
        row["gemeentecode"] = "GM9999"
    second = ingest_delivery(settings, conn, write_police(landing, bad, name="politie_registraties_2024Q3_v2.csv"))
    assert second.status == "afgekeurd"
    assert {r[-4] for r in raw_rows(conn, POLICE)} == {first.delivery_id}


def test_exact_duplicate_is_acknowledged_not_reloaded(settings, conn) -> None:
    landing = settings.landing_for(POLICE)
    first = ingest_delivery(settings, conn, write_police(landing))
    before = raw_rows(conn, POLICE)
    again = ingest_delivery(settings, conn, write_police(landing))
    assert again.status == "duplicaat" and again.exit_code == 0
    assert raw_rows(conn, POLICE) == before
    assert first.delivery_id in again.problems[0].message
    assert list(landing.iterdir()) == []


def test_lower_or_equal_version_with_other_bytes_is_rejected(settings, conn) -> None:
    landing = settings.landing_for(POLICE)
    ingest_delivery(settings, conn, write_police(landing, police_rows(20), name="politie_registraties_2024Q3_v2.csv"))
    before = raw_rows(conn, POLICE)
    receipt = ingest_delivery(settings, conn, write_police(landing, police_rows(25)))
    assert receipt.status == "afgekeurd"
    assert receipt.problems[0].code == "versie_niet_hoger"
    assert receipt.archive_path.parent == settings.quarantine_dir / POLICE
    assert raw_rows(conn, POLICE) == before


def test_cbs_dot_is_loaded_as_null_not_zero(settings, conn) -> None:
    receipt = ingest_delivery(settings, conn, write_vm(settings.landing_for(VM)))
    assert receipt.status == "geaccepteerd", receipt.to_markdown()
    values = conn.execute(
        'SELECT "RegioS", "Waarde" FROM raw.veiligheidsmonitor '
        "WHERE \"Onderwerp\" = 'slachtoffer_online_fraude' AND \"Marges\" = 'MW00000' ORDER BY 1"
    ).fetchall()
    assert [(r, None if v is None else float(v)) for r, v in values] == [
        ("GM0184", None),
        ("GM0344", 12.5),
        ("RE03", 11.9),
    ]


def test_reingesting_a_loaded_delivery_changes_nothing(settings, conn) -> None:
    landing = settings.landing_for(POLICE)
    first = ingest_delivery(settings, conn, write_police(landing))
    before_rows = raw_rows(conn, POLICE)
    before_first = conn.execute(
        "SELECT * FROM raw.deliveries WHERE levering_id = $id", {"id": first.delivery_id}
    ).fetchall()
    archived = first.archive_path.read_bytes()
    ingest_delivery(settings, conn, write_police(landing))
    assert raw_rows(conn, POLICE) == before_rows
    assert (
        conn.execute("SELECT * FROM raw.deliveries WHERE levering_id = $id", {"id": first.delivery_id}).fetchall()
        == before_first
    )
    assert first.archive_path.read_bytes() == archived


def test_fhd_rows_get_matched_gemeentecode(settings, conn) -> None:
    from test_ingestion_samples import FHD, fhd_rows, write_fhd

    rows = fhd_rows(4)
    rows[1]["Gemeente"] = "  de   BILT "
    receipt = ingest_delivery(settings, conn, write_fhd(settings.landing_for(FHD), rows))
    assert receipt.status == "geaccepteerd", receipt.to_markdown()
    codes = conn.execute(
        'SELECT "Gemeente", _gemeentecode, "Datum melding" FROM raw.fraudehelpdesk_meldingen ORDER BY _rij'
    ).fetchall()
    assert [c[1] for c in codes] == ["GM0344", "GM0310", "GM0307", "GM0355"]
    assert str(codes[0][2]) == "2024-07-01"


def test_police_ids_that_look_like_an_iban_are_not_personal_data(settings, conn) -> None:
    rows = police_rows(20)
    # P + 16 hex that reads as "PE26…" and even passes the IBAN mod-97 check; PE is no IBAN
    # country, and the registry length of real IBAN countries rules such ids out.
    rows[0]["registratie_id"] = "PE2600000076B06B7"
    receipt = ingest_delivery(settings, conn, write_police(settings.landing_for(POLICE), rows))
    assert receipt.status == "geaccepteerd", receipt.to_markdown()


def test_third_version_replaces_the_second_not_the_first(settings, conn) -> None:
    landing = settings.landing_for(POLICE)
    ingest_delivery(settings, conn, write_police(landing, police_rows(20)))
    second = ingest_delivery(
        settings, conn, write_police(landing, police_rows(25), name="politie_registraties_2024Q3_v2.csv")
    )
    third = ingest_delivery(
        settings, conn, write_police(landing, police_rows(30), name="politie_registraties_2024Q3_v3.csv")
    )
    assert third.status == "geaccepteerd"
    assert any(p.code == "vervangt_levering" and "versie 2" in p.message for p in third.problems)
    repeat = ingest_delivery(
        settings, conn, write_police(landing, police_rows(35), name="politie_registraties_2024Q3_v3.csv")
    )
    assert repeat.problems[0].code == "versie_niet_hoger" and "versie 3" in repeat.problems[0].message
    statuses = dict(conn.execute("SELECT versie, status FROM raw.deliveries WHERE status <> 'afgekeurd'").fetchall())
    assert statuses == {1: "vervangen", 2: "vervangen", 3: "geaccepteerd"}
    assert second.delivery_id not in {r[-4] for r in raw_rows(conn, POLICE)}


def test_a_dropped_raw_table_is_created_again(settings, conn) -> None:
    ingest_delivery(settings, conn, write_police(settings.landing_for(POLICE)))
    conn.execute("DROP TABLE raw.programma_registraties")
    receipt = ingest_delivery(settings, conn, write_programme(settings.landing_for(PROGRAMME)))
    assert receipt.status == "geaccepteerd", receipt.to_markdown()
    assert conn.execute("SELECT count(*) FROM raw.programma_registraties").fetchone()[0] == receipt.rows_accepted > 0
