"""Partner boxes: each partner delivers from its own `in/`, gets its receipts in its own `uit/`,
cannot pose as another, and the folders carry the modes a per-partner SFTP set-up relies on."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import dagster as dg
import duckdb
import pytest
from conftest import fresh_home
from test_ingestion_samples import (
    BANK,
    FHD,
    POLICE,
    PROGRAMME,
    VM,
    bank_rows,
    write_bank,
    write_fhd,
    write_police,
    write_programme,
    write_vm,
)

from dvcc_pipeline.cli import main
from dvcc_pipeline.config import Settings
from dvcc_pipeline.contracts import PartnerRegistryError, load_partners, parse_partners
from dvcc_pipeline.ingestion import (
    ensure_raw_schema,
    ingest_delivery,
    quarantine_stray,
    quarantine_unknown,
    scan_landing,
    unknown_entries,
)


@pytest.fixture
def settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    return fresh_home(tmp_path, monkeypatch, settle_seconds="0")


def uit_files(settings: Settings) -> dict[str, list[str]]:
    """Per partner the names in its `uit/` (only partners with something there)."""
    found = {}
    for partner in load_partners():
        names = sorted(p.name for p in settings.box_out(partner).iterdir())
        if names:
            found[partner] = names
    return found


def ledger(conn: duckdb.DuckDBPyConnection) -> list[tuple]:
    return conn.execute("SELECT bestandsnaam, status, partner FROM raw.deliveries ORDER BY levering_id").fetchall()


def raw_count(conn: duckdb.DuckDBPyConnection, feed: str) -> int:
    return conn.execute(f"SELECT count(*) FROM raw.{feed}").fetchone()[0]


@pytest.mark.parametrize(
    ("partner", "feed", "writer"),
    [
        ("politie", POLICE, write_police),
        ("bank_RABO", BANK, write_bank),
        ("fraudehelpdesk", FHD, write_fhd),
        ("cbs", VM, write_vm),
        ("programma", PROGRAMME, write_programme),
    ],
)
def test_a_partner_delivers_from_its_own_box_and_reads_the_receipt_there_only(
    settings, conn, partner, feed, writer
) -> None:
    path = writer(settings.box_in(partner))
    scan = scan_landing(settings, feed)
    assert [(d.path, d.partner) for d in scan.deliveries] == [(path, partner)]
    assert all(
        not scan_landing(settings, other).deliveries for other in load_partners()[partner].feeds if other != feed
    )

    receipt = ingest_delivery(settings, conn, path, settled=None)
    assert receipt.status == "geaccepteerd" and receipt.partner == partner
    assert not path.exists()
    assert ledger(conn) == [(path.name, "geaccepteerd", partner)]
    assert raw_count(conn, feed) == receipt.rows_accepted > 0

    stem = f"{path.name}.{receipt.delivery_id}"
    assert uit_files(settings) == {partner: sorted([f"{stem}.json", f"{stem}.md", "overzicht.md"])}
    sent = settings.box_out(partner) / f"{stem}.json"
    text = sent.read_text(encoding="utf-8") + (settings.box_out(partner) / "overzicht.md").read_text(encoding="utf-8")
    assert str(settings.home) not in text, "a server path reached the partner"
    data = json.loads(sent.read_text(encoding="utf-8"))
    assert data["status"] == "geaccepteerd" and data["archiefpad"] is None and data["volgende_stap"]
    assert receipt.receipt_path.is_file()  # the data team's copy stays in receipts/


def test_the_data_teams_landing_drop_goes_to_no_box(settings, conn) -> None:
    path = write_vm(settings.landing_for(VM))
    receipt = ingest_delivery(settings, conn, path)
    assert receipt.status == "geaccepteerd" and receipt.partner is None
    assert ledger(conn) == [(path.name, "geaccepteerd", None)]
    assert uit_files(settings) == {}


def test_a_bank_posing_as_another_is_refused_and_nothing_reaches_the_other(settings, conn) -> None:
    posing = write_bank(settings.box_in("bank_ABNA"), bank_rows(bank="INGB"), name="bank_INGB_2024-07.csv")
    scan = scan_landing(settings, BANK)
    assert scan.deliveries == [] and scan.strays == [posing]

    receipt = quarantine_stray(settings, conn, BANK, posing)
    assert receipt.status == "afgekeurd" and receipt.partner == "bank_ABNA"
    assert [p.code for p in receipt.problems] == ["leverancier_onjuist"]
    assert "INGB" in receipt.problems[0].message and "bank_ABNA" in receipt.problems[0].message
    assert raw_count(conn, BANK) == 0
    assert ledger(conn) == [("bank_INGB_2024-07.csv", "afgekeurd", "bank_ABNA")]
    assert receipt.archive_path.parent == settings.quarantine_dir / BANK
    assert set(uit_files(settings)) == {"bank_ABNA"}
    assert list(settings.box_in("bank_INGB").iterdir()) == []
    assert "bankhelpdesk" not in (settings.box_out("bank_ABNA") / "overzicht.md").read_text()


def test_ingest_delivery_refuses_a_posing_name_even_when_called_directly(settings, conn) -> None:
    posing = write_bank(settings.box_in("bank_ABNA"), name="bank_RABO_2024-07.csv")
    receipt = ingest_delivery(settings, conn, posing)
    assert [p.code for p in receipt.problems] == ["leverancier_onjuist"]
    assert raw_count(conn, BANK) == 0 and set(uit_files(settings)) == {"bank_ABNA"}


def test_a_feed_the_partner_may_not_deliver_is_refused(settings, conn) -> None:
    path = write_bank(settings.box_in("politie"))  # a valid bank file, in the police's box
    assert scan_landing(settings, BANK).strays == [path]
    assert scan_landing(settings, POLICE).strays == []
    receipt = quarantine_stray(settings, conn, BANK, path)
    assert [p.code for p in receipt.problems] == ["leverancier_onjuist"]
    assert "bank_fraudemeldingen" in receipt.problems[0].message
    assert raw_count(conn, BANK) == 0
    assert ledger(conn) == [(path.name, "afgekeurd", "politie")]
    assert set(uit_files(settings)) == {"politie"}


def test_a_stray_in_a_box_is_quarantined_with_a_receipt_to_that_partner(settings, conn) -> None:
    stray = settings.box_in("cbs") / "vm 2023 definitief.csv"
    stray.write_text("x", encoding="utf-8")
    (settings.box_in("cbs") / "veiligheidsmonitor_2025.csv.part").write_text("half", encoding="utf-8")
    assert scan_landing(settings, VM).strays == [stray]
    receipt = quarantine_stray(settings, conn, VM, stray)
    assert receipt.status == "afgekeurd" and receipt.partner == "cbs"
    assert "veiligheidsmonitor_" in receipt.problems[0].message  # the name that was expected
    assert set(uit_files(settings)) == {"cbs"}
    assert [p.name for p in settings.box_in("cbs").iterdir()] == ["veiligheidsmonitor_2025.csv.part"]


def test_an_unknown_folder_under_partners_goes_to_quarantine_with_a_receipt_to_the_data_team(settings, conn) -> None:
    inbox = settings.partners_dir / "bank_XXXX" / "in"
    inbox.mkdir(parents=True)
    write_bank(inbox, name="bank_XXXX_2024-07.csv")
    (settings.partners_dir / "losse_levering.csv").write_text("x", encoding="utf-8")
    found = unknown_entries(settings)
    assert sorted(found) == sorted([inbox, settings.partners_dir / "losse_levering.csv"])
    receipts = [quarantine_unknown(settings, conn, path) for path in found]
    assert {p.code for r in receipts for p in r.problems} == {"onbekende_map"}
    assert all(r.partner is None and r.receipt_path.parent == settings.receipts_dir / "onbekend" for r in receipts)
    assert "geen geregistreerde partner" in next(r for r in receipts if r.file_name == "in").problems[0].message
    assert not (settings.partners_dir / "bank_XXXX").exists()
    assert settings.partners_dir.is_dir()
    assert uit_files(settings) == {}
    assert [status for _, status, _ in ledger(conn)] == ["afgekeurd", "afgekeurd"]


def test_overview_lists_exactly_that_partners_deliveries_newest_first(settings, conn) -> None:
    first = ingest_delivery(settings, conn, write_bank(settings.box_in("bank_RABO")))
    bad = write_bank(settings.box_in("bank_RABO"), name="bank_RABO_2024-08.csv")  # July rows: out of period
    second = ingest_delivery(settings, conn, bad)
    ingest_delivery(
        settings, conn, write_bank(settings.box_in("bank_ABNA"), bank_rows(bank="ABNA"), name="bank_ABNA_2024-07.csv")
    )
    assert first.status == "geaccepteerd" and second.status != "geaccepteerd"

    lines = (settings.box_out("bank_RABO") / "overzicht.md").read_text(encoding="utf-8").splitlines()
    rows = [line for line in lines if line.startswith("| ") and "verwerkt op" not in line and "---" not in line]
    assert [row.split(" | ")[1] for row in rows] == ["bank_RABO_2024-08.csv", "bank_RABO_2024-07.csv"]
    assert "Geaccepteerd" in rows[1] and "Niets te doen" in rows[1]
    assert "ABNA" not in "\n".join(lines)
    abna = (settings.box_out("bank_ABNA") / "overzicht.md").read_text(encoding="utf-8")
    assert "bank_ABNA_2024-07.csv" in abna and "RABO" not in abna
    assert not [p for p in settings.box_out("bank_RABO").iterdir() if p.name.startswith(".")]  # no temporaries left


def test_box_modes_let_a_partner_reach_only_its_own_box(settings, conn) -> None:
    def mode(path: Path) -> int:
        return stat.S_IMODE(path.stat().st_mode)

    assert mode(settings.partners_dir) == 0o711  # passable, not listable: no partner sees the others' names
    for partner in load_partners():
        assert mode(settings.partners_dir / partner) == 0o755  # a chroot: not writable by group or others
        assert mode(settings.box_in(partner)) == 0o2770  # the partner's group writes, others nothing
        assert mode(settings.box_out(partner)) == 0o2750  # the partner's group reads, others nothing
    ingest_delivery(settings, conn, write_police(settings.box_in("politie")))
    assert {mode(p) for p in settings.box_out("politie").iterdir()} == {0o640}

    os.chmod(settings.box_in("politie"), 0o2775)  # an operator's choice is not overwritten
    settings.ensure_dirs(load_partners())
    assert mode(settings.box_in("politie")) == 0o2775


def test_registry_has_every_partner_of_the_spec() -> None:
    partners = load_partners()
    banks = ["ABNA", "INGB", "RABO", "SNSB", "ASNB", "BUNQ", "KNAB", "TRIO"]
    assert set(partners) == {"politie", "fraudehelpdesk", "cbs", "programma", *(f"bank_{b}" for b in banks)}
    assert all(partners[f"bank_{b}"].bank_code == b for b in banks)
    assert all(p.name and p.contact and p.feeds for p in partners.values())


@pytest.mark.parametrize(
    ("entries", "message"),
    [
        (
            [{"id": "politie", "name": "P", "contact": "c", "feeds": ["politie_aangiften"]}],
            "onbekende feed politie_aangiften",
        ),
        (
            [
                {"id": "bank_ABNA", "name": "A", "contact": "c", "feeds": [BANK], "bank_code": "ABNA"},
                {"id": "bank_ABNA2", "name": "B", "contact": "c", "feeds": [BANK], "bank_code": "ABNA"},
            ],
            "bankcode ABNA staat bij zowel",
        ),
        ([{"id": "bank_ABNA", "name": "A", "contact": "c", "feeds": [BANK]}], "geen bank_code"),
        (
            [{"id": "bank_XXXX", "name": "X", "contact": "c", "feeds": [BANK], "bank_code": "XXXX"}],
            "niet in het datacontract",
        ),
        ([{"id": "politie", "name": "P", "feeds": [POLICE]}], "mist contact"),
    ],
)
def test_registry_errors_are_one_dutch_line(entries, message) -> None:
    with pytest.raises(PartnerRegistryError, match=message):
        parse_partners({"partners": entries})


def test_old_ledger_gets_the_partner_column_and_keeps_its_rows(settings, conn) -> None:
    conn.execute("CREATE SCHEMA raw")
    conn.execute(
        "CREATE TABLE raw.deliveries (levering_id VARCHAR NOT NULL, feed VARCHAR NOT NULL, "
        "bestandsnaam VARCHAR NOT NULL, status VARCHAR NOT NULL)"
    )
    conn.execute("INSERT INTO raw.deliveries VALUES ('oud', 'politie_registraties', 'x.csv', 'geaccepteerd')")
    ensure_raw_schema(conn)
    assert conn.execute("SELECT levering_id, partner FROM raw.deliveries").fetchall() == [("oud", None)]


@pytest.mark.parametrize(
    ("partner", "name", "code", "says"),
    [
        ("bank_ABNA", "bank_ABNA_2024-07.csv", 0, "past in de box"),
        ("bank_ABNA", "bank_INGB_2024-07.csv", 2, "past niet"),
        ("politie", "bank_ABNA_2024-07.csv", 2, "past niet"),
        ("politie", "aangiften_juli.csv", 2, "past niet"),
    ],
)
def test_validate_tells_a_partner_whether_the_name_fits_its_box(tmp_path, capsys, partner, name, code, says) -> None:
    bank = name.split("_")[1] if name.startswith("bank_") else "ABNA"
    path = write_bank(tmp_path, bank_rows(bank=bank), name=name)
    assert main(["validate", "--partner", partner, str(path)]) == code
    out = capsys.readouterr().out
    assert says in out
    if code:
        assert "leverancier_onjuist" in out or "politie_registraties_" in out


def test_validate_with_an_unknown_partner_is_a_usage_error(tmp_path, capsys) -> None:
    path = write_bank(tmp_path)
    assert main(["validate", "--partner", "bank_XXXX", str(path)]) == 2
    assert "Onbekende partner" in capsys.readouterr().err


def test_the_sensor_launches_a_box_delivery(settings, monkeypatch) -> None:
    from dvcc_pipeline.ingestion.sensors import build_landing_sensor

    write_bank(settings.box_in("bank_RABO"))
    write_bank(settings.box_in("bank_ABNA"), name="bank_RABO_2024-08.csv")  # posing: cleanup job
    with dg.instance_for_test() as instance:
        result = build_landing_sensor(BANK)(dg.build_sensor_context(instance=instance))
    assert [r.partition_key for r in result.run_requests if r.job_name.startswith("ingestie")] == ["2024-07"]
    assert [r.job_name for r in result.run_requests if r.job_name == "landing_opruimen"] == ["landing_opruimen"]
    assert "partners/bank_RABO/in/bank_RABO_2024-07.csv" in json.loads(result.cursor)


def test_a_broken_registry_stops_dvcc_with_one_dutch_line(tmp_path, capsys, monkeypatch) -> None:
    registry = tmp_path / "partners.yaml"
    registry.write_text(
        "partners:\n  - {id: politie, name: Politie, contact: p@example.nl, feeds: [politie_aangiften]}\n",
        encoding="utf-8",
    )
    monkeypatch.setenv("DVCC_PARTNERS_FILE", str(registry))
    monkeypatch.setenv("DVCC_HOME", str(tmp_path / "home"))
    assert main(["validate", str(write_bank(tmp_path))]) == 1
    err = capsys.readouterr().err
    assert err.startswith("Partnerregister ongeldig: partners.yaml: partner `politie` levert onbekende feed")
    assert len(err.strip().splitlines()) == 1


@pytest.mark.slow
def test_the_demo_delivers_through_the_boxes(demo_home: Path) -> None:
    """After `dvcc demo`: partners' receipts in their own uit/, the poser refused in its own box only."""
    partners = demo_home / "partners"
    abna = (partners / "bank_ABNA" / "uit" / "overzicht.md").read_text(encoding="utf-8")
    assert "bank_RABO_2025-03.csv" in abna and "Afgekeurd" in abna
    rabo = "\n".join(p.read_text(encoding="utf-8") for p in (partners / "bank_RABO" / "uit").glob("*.json"))
    assert '"partner": "bank_ABNA"' not in rabo and "bank_ABNA" not in rabo
    assert list((partners / "cbs" / "uit").iterdir()) == []  # the Veiligheidsmonitor came through landing
    assert not [p for p in partners.glob("*/in/*")]
    output = (demo_home / "demo_output.txt").read_text(encoding="utf-8")
    listing = output.split("== Ontvangstbewijzen in de boxen ==")[1]
    assert "partners/bank_ABNA/uit/" in listing and "bank_RABO_2025-03.csv" in listing
