"""The door and a stalled upload: per-partner settle windows, a visibly cut-off CSV rejected as
`onvolledig` (never accepted in part), a missing final line end alone still fine (RFC 4180),
and the sensor's skip reason naming the files that are still settling."""

from __future__ import annotations

import json
import os
import re
import time
from pathlib import Path

import dagster as dg
import pytest
from conftest import fresh_home
from test_ingestion_samples import (
    BANK,
    POLICE,
    header,
    police_rows,
    programme_rows,
    write_bank,
    write_police,
    write_programme,
    write_vm,
)

from dvcc_pipeline.config import Settings
from dvcc_pipeline.contracts import PartnerRegistryError, load_partners, parse_partners
from dvcc_pipeline.ingestion import ingest_delivery, scan_landing, validate_file
from dvcc_pipeline.operations.instance import prepare_instance


def _cut(path: Path, keep: float) -> Path:
    """The file as a stalled upload leaves it: only the first `keep` share of its bytes."""
    data = path.read_bytes()
    path.write_bytes(data[: int(len(data) * keep)])
    return path


def _age(path: Path, seconds: float) -> None:
    past = time.time() - seconds
    os.utime(path, (past, past))


@pytest.mark.parametrize(
    ("writer", "keep", "why"),
    [
        (write_police, 0.55, "velden van de kop"),  # stops inside a record of unquoted fields
        (write_bank, 0.7, "velden van de kop"),  # `;`, BOM, CRLF
        (write_vm, 0.62, "tussen aanhalingstekens"),  # every field quoted: stops inside one
    ],
)
def test_a_cut_off_csv_is_rejected_whole_as_onvolledig(tmp_path: Path, writer, keep: float, why: str) -> None:
    path = _cut(writer(tmp_path), keep)
    assert not path.read_bytes().endswith(b"\n")
    receipt = validate_file(path)
    assert receipt.status == "afgekeurd" and receipt.rows_accepted == 0
    assert [p.code for p in receipt.problems] == ["onvolledig"]
    assert why in receipt.problems[0].message
    assert "Lever het hele bestand opnieuw aan" in receipt.next_step()


@pytest.mark.parametrize("writer", [write_police, write_bank, write_vm])
def test_a_missing_final_line_end_alone_is_no_sign(tmp_path: Path, writer) -> None:
    path = writer(tmp_path)
    path.write_bytes(path.read_bytes().removesuffix(b"\n").removesuffix(b"\r"))
    receipt = validate_file(path)
    assert receipt.status == "geaccepteerd", receipt.problems


def test_a_column_missing_from_every_row_is_no_cut_off(tmp_path: Path) -> None:
    columns = header(POLICE)
    lines = [",".join(columns)] + [",".join(str(r[c]) for c in columns[:-1]) for r in police_rows()]
    path = tmp_path / "politie_registraties_2024Q3.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    receipt = validate_file(path)
    assert receipt.status == "afgekeurd"
    assert "onvolledig" not in {p.code for p in receipt.problems}


def test_a_line_end_inside_a_quoted_last_field_is_no_cut_off(tmp_path: Path) -> None:
    rows = programme_rows()
    rows[-1]["omschrijving"] = "bijeenkomst in het buurthuis,\nmet 12 deelnemers"
    path = write_programme(tmp_path, rows)
    assert validate_file(path).status == "geaccepteerd"
    _cut(path, 1 - 12 / len(path.read_bytes()))  # stops inside that quoted text
    assert [p.code for p in validate_file(path).problems] == ["onvolledig"]


# --- through the door, from a partner's box -----------------------------------------------


@pytest.fixture
def settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    return fresh_home(tmp_path, monkeypatch, settle_seconds="10")


def test_a_stalled_upload_in_a_box_is_refused_with_a_receipt_to_deliver_again(settings, conn) -> None:
    path = _cut(write_bank(settings.box_in("bank_RABO")), 0.6)
    _age(path, 120)  # the upload stalled long past the box's settle window
    arrived = path.stat().st_mtime
    [delivery] = scan_landing(settings, BANK).deliveries

    receipt = ingest_delivery(settings, conn, delivery.path, settled=None)
    assert receipt.status == "afgekeurd" and [p.code for p in receipt.problems] == ["onvolledig"]
    assert conn.execute("select count(*) from raw.bank_fraudemeldingen").fetchone()[0] == 0
    assert conn.execute("select status, aangekomen_op is not null from raw.deliveries").fetchall() == [
        ("afgekeurd", True)
    ]
    assert not path.exists() and list((settings.quarantine_dir / BANK).iterdir())

    stem = f"{path.name}.{receipt.delivery_id}"
    markdown = (settings.box_out("bank_RABO") / f"{stem}.md").read_text(encoding="utf-8")
    assert "niet volledig aangekomen" in markdown
    assert f"Lever het hele bestand opnieuw aan, onder dezelfde naam `{path.name}`" in markdown
    sent = json.loads((settings.box_out("bank_RABO") / f"{stem}.json").read_text(encoding="utf-8"))
    assert sent["volgende_stap"].startswith("Lever het hele bestand opnieuw aan")
    # when the upload arrived (its last write), next to when the intake took it
    assert abs(time.mktime(time.strptime(sent["aangekomen_op"], "%Y-%m-%dT%H:%M:%S")) - time.timezone - arrived) < 2
    assert sent["aangekomen_op"] < sent["ontvangen_op"]
    assert "aangekomen op" in markdown


# --- settle windows -----------------------------------------------------------------------


def test_a_box_waits_its_partners_window_and_landing_the_data_teams(settings) -> None:
    assert load_partners()["bank_RABO"].settle_seconds == 60
    boxed = write_bank(settings.box_in("bank_RABO"))
    landed = write_bank(settings.landing_for(BANK), name="bank_INGB_2024-07.csv")
    _age(boxed, 30)
    _age(landed, 30)
    scan = scan_landing(settings, BANK)
    assert [d.path for d in scan.deliveries] == [landed]
    [waiting] = scan.settling
    assert waiting.path == boxed and 25 < waiting.seconds_left <= 30

    _age(boxed, 61)
    assert {d.path for d in scan_landing(settings, BANK).deliveries} == {boxed, landed}


def test_a_partner_can_get_its_own_window_and_a_wrong_one_is_named() -> None:
    entry = {"id": "politie", "name": "Politie", "contact": "a@b.nl", "feeds": [POLICE]}
    assert parse_partners({"partners": [entry]})["politie"].settle_seconds == 60
    assert parse_partners({"settle_seconds": 90, "partners": [entry]})["politie"].settle_seconds == 90
    assert parse_partners({"partners": [{**entry, "settle_seconds": 300}]})["politie"].settle_seconds == 300
    with pytest.raises(PartnerRegistryError, match="settle_seconds van `politie` moet een aantal seconden zijn"):
        parse_partners({"partners": [{**entry, "settle_seconds": "lang"}]})


def test_the_sensor_names_the_files_still_settling(settings) -> None:
    from dvcc_pipeline.ingestion.sensors import build_landing_sensor

    prepare_instance(settings)
    boxed = write_bank(settings.box_in("bank_RABO"))
    _age(boxed, 20)
    with dg.instance_for_test() as instance:
        result = build_landing_sensor(BANK)(dg.build_sensor_context(instance=instance))
    assert result.run_requests == []
    message = result.skip_reason.skip_message
    assert message.startswith("Nog geen levering klaar: 1 bestand(en) nog niet de hele wachttijd onveranderd")
    assert re.search(r"partners/bank_RABO/in/bank_RABO_2024-07\.csv \(nog (3\d|40) s\)", message), message
