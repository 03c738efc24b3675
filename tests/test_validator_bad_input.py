"""One test per kind of bad partner input: the status and the specific problem code/column."""

from __future__ import annotations

from pathlib import Path

from test_ingestion_samples import (
    POLICE,
    bank_rows,
    csv_bytes,
    fhd_rows,
    header,
    police_rows,
    programme_rows,
    write_bank,
    write_fhd,
    write_police,
    write_programme,
)

from dvcc_pipeline.ingestion import Receipt, validate_file


def codes(receipt: Receipt) -> set[tuple[str, str | None]]:
    return {(p.code, p.column) for p in receipt.problems}


def problem(receipt: Receipt, code: str):
    return next(p for p in receipt.problems if p.code == code)


def test_wrong_delimiter(tmp_path: Path) -> None:
    receipt = validate_file(write_police(tmp_path, delimiter=";"))
    assert receipt.status == "afgekeurd" and receipt.exit_code == 2
    message = problem(receipt, "scheidingsteken").message
    assert "gebruikt de puntkomma (;)" in message and "schrijft de komma (,) voor" in message
    assert "`politie_registraties_2024Q3_v2.csv`" in receipt.next_step()


def test_missing_column(tmp_path: Path) -> None:
    columns = [c for c in header(POLICE) if c != "online_kenmerk"]
    path = tmp_path / "politie_registraties_2024Q3.csv"
    path.write_bytes(csv_bytes(columns, police_rows()))
    receipt = validate_file(path)
    assert receipt.status == "afgekeurd"
    assert ("kolom_ontbreekt", "online_kenmerk") in codes(receipt)


def test_extra_column(tmp_path: Path) -> None:
    path = tmp_path / "politie_registraties_2024Q3.csv"
    path.write_bytes(csv_bytes([*header(POLICE), "opmerking"], police_rows()))
    receipt = validate_file(path)
    assert receipt.status == "afgekeurd"
    assert ("kolom_extra", "opmerking") in codes(receipt)


def test_renamed_column(tmp_path: Path) -> None:
    columns = ["schade_eur" if c == "schadebedrag_eur" else c for c in header(POLICE)]
    rows = [r | {"schade_eur": r["schadebedrag_eur"]} for r in police_rows()]
    path = tmp_path / "politie_registraties_2024Q3.csv"
    path.write_bytes(csv_bytes(columns, rows))
    receipt = validate_file(path)
    found = problem(receipt, "kolom_hernoemd")
    assert found.column == "schadebedrag_eur" and "`schade_eur`" in found.message


def test_reordered_columns(tmp_path: Path) -> None:
    columns = header(POLICE)
    columns[1], columns[2] = columns[2], columns[1]
    path = tmp_path / "politie_registraties_2024Q3.csv"
    path.write_bytes(csv_bytes(columns, police_rows()))
    assert "kolomvolgorde" in {p.code for p in validate_file(path).problems}


def test_empty_file(tmp_path: Path) -> None:
    path = tmp_path / "politie_registraties_2024Q3.csv"
    path.write_bytes(b"")
    receipt = validate_file(path)
    assert receipt.status == "afgekeurd" and codes(receipt) == {("leeg_bestand", None)}


def test_header_only(tmp_path: Path) -> None:
    receipt = validate_file(write_police(tmp_path, rows=[]))
    assert receipt.status == "afgekeurd" and codes(receipt) == {("geen_gegevensrijen", None)}


def test_not_utf8(tmp_path: Path) -> None:
    path = write_police(tmp_path)
    data = path.read_bytes().replace(b"helpdesk", b"helpd\xe9sk", 1)
    path.write_bytes(data)
    receipt = validate_file(path)
    assert receipt.status == "afgekeurd"
    assert problem(receipt, "codering").rows == [2]


def test_truncated_last_line(tmp_path: Path) -> None:
    path = write_police(tmp_path)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) - 30])
    receipt = validate_file(path)
    assert receipt.status == "afgekeurd"
    assert [p.code for p in receipt.problems] == ["onvolledig"]  # the door's check, before any row is read


def test_date_in_wrong_format(tmp_path: Path) -> None:
    rows = police_rows()
    rows[4]["registratiedatum"] = "03-07-2024"
    receipt = validate_file(write_police(tmp_path, rows))
    found = problem(receipt, "ongeldige_datum")
    assert found.column == "registratiedatum" and found.rows == [6]
    assert "'03-07-2024'" in found.message


def test_date_outside_period(tmp_path: Path) -> None:
    rows = police_rows()
    rows[0]["registratiedatum"] = "2024-10-01"
    receipt = validate_file(write_police(tmp_path, rows))
    assert receipt.status == "afgekeurd"  # 1 of 20 rows is above the 1% threshold
    assert ("buiten_periode", "registratiedatum") in codes(receipt)
    assert problem(receipt, "buiten_periode").rows == [2]


def test_unknown_enum_value(tmp_path: Path) -> None:
    rows = police_rows()
    rows[2]["online_kenmerk"] = "misschien"
    receipt = validate_file(write_police(tmp_path, rows))
    found = problem(receipt, "onbekende_waarde")
    assert found.column == "online_kenmerk" and found.rows == [4]


def test_negative_amount(tmp_path: Path) -> None:
    rows = bank_rows()
    rows[3]["schadebedrag"] = "-12,50"
    rows[5]["schadebedrag"] = "-1,00"
    receipt = validate_file(write_bank(tmp_path, rows))
    assert ("buiten_bereik", "schadebedrag") in codes(receipt)
    message = problem(receipt, "buiten_bereik").message
    assert "'-12,50' is kleiner dan 0 (en nog 1 rij)" in message  # quoted once, Dutch singular


def test_amount_with_decimal_point_in_bank_file(tmp_path: Path) -> None:
    rows = bank_rows()
    rows[15]["schadebedrag"] = "12.50"
    receipt = validate_file(write_bank(tmp_path, rows))
    found = problem(receipt, "ongeldig_bedrag")
    assert found.rows == [17]
    assert "kolom `schadebedrag`, rij 17: '12.50' is geen bedrag met decimale komma" in found.message


def test_reimbursed_more_than_damage(tmp_path: Path) -> None:
    rows = bank_rows()
    rows[0]["vergoed_bedrag"] = "999,00"
    receipt = validate_file(write_bank(tmp_path, rows))
    assert ("vergoed_hoger_dan_schade", "vergoed_bedrag") in codes(receipt)


def test_unknown_gemeentecode(tmp_path: Path) -> None:
    rows = police_rows()
    rows[1]["gemeentecode"] = "GM0363"  # Amsterdam: not in Midden-Nederland
    receipt = validate_file(write_police(tmp_path, rows))
    assert ("onbekende_code", "gemeentecode") in codes(receipt)


def test_fhd_municipality_name_odd_case_and_spaces_is_accepted(tmp_path: Path) -> None:
    rows = fhd_rows()
    rows[0]["Gemeente"] = "  de   BILT "
    rows[1]["Gemeente"] = "utrecht"
    receipt = validate_file(write_fhd(tmp_path, rows))
    assert receipt.status == "geaccepteerd", receipt.to_markdown()


def test_fhd_municipality_name_matching_nothing_is_a_row_error(tmp_path: Path) -> None:
    rows = fhd_rows(200)
    rows[7]["Gemeente"] = "Amsterdam"
    receipt = validate_file(write_fhd(tmp_path, rows))
    assert receipt.status == "geaccepteerd_met_afkeur" and receipt.exit_code == 1
    assert problem(receipt, "onbekende_code").rows == [9]
    assert (receipt.rows_accepted, receipt.rows_rejected) == (199, 1)


def test_duplicate_keys(tmp_path: Path) -> None:
    rows = police_rows()
    rows[9]["registratie_id"] = rows[3]["registratie_id"]
    receipt = validate_file(write_police(tmp_path, rows))
    found = problem(receipt, "dubbele_sleutel")
    assert found.column == "registratie_id" and found.rows == [11]


def test_invalid_rows_just_below_threshold(tmp_path: Path) -> None:
    rows = police_rows(200)
    for i in (10, 20):  # 2 of 200 = 1%: at the threshold, accepted
        rows[i]["soort_registratie"] = "klacht"
    receipt = validate_file(write_police(tmp_path, rows))
    assert receipt.status == "geaccepteerd_met_afkeur"
    assert (receipt.rows_accepted, receipt.rows_rejected) == (198, 2)


def test_invalid_rows_just_above_threshold(tmp_path: Path) -> None:
    rows = police_rows(200)
    for i in (10, 20, 30):  # 3 of 200 = 1.5%
        rows[i]["soort_registratie"] = "klacht"
    receipt = validate_file(write_police(tmp_path, rows))
    assert receipt.status == "afgekeurd"
    assert problem(receipt, "drempel_overschreden").count == 3


def test_schadebedrag_required_iff_schade(tmp_path: Path) -> None:
    rows = fhd_rows(200)
    rows[0]["Schadebedrag"] = 10.0  # Schade = Nee
    receipt = validate_file(write_fhd(tmp_path, rows))
    assert problem(receipt, "schadebedrag_bij_schade").rows == [2]


def test_xlsx_without_sheet(tmp_path: Path) -> None:
    receipt = validate_file(write_fhd(tmp_path, sheet="Blad1"))
    assert receipt.status == "afgekeurd"
    assert "`Meldingen`" in problem(receipt, "werkblad_ontbreekt").message


def test_xlsx_with_formula(tmp_path: Path) -> None:
    receipt = validate_file(write_fhd(tmp_path, formula_at=(5, "Schadebedrag")))
    assert receipt.status == "afgekeurd"
    found = problem(receipt, "formule")
    assert (found.column, found.rows) == ("Schadebedrag", [5])


def test_programme_gebied_must_match_niveau(tmp_path: Path) -> None:
    rows = programme_rows(200)
    rows[5]["gebied"] = "GM0344" if rows[5]["niveau"] != "gemeente" else "Heuvelrug"
    receipt = validate_file(write_programme(tmp_path, rows))
    assert problem(receipt, "onbekende_code").rows == [7]


def test_file_name_matching_no_pattern(tmp_path: Path) -> None:
    path = write_police(tmp_path, name="politie_2024Q3.csv")
    receipt = validate_file(path)
    assert receipt.status == "afgekeurd" and receipt.exit_code == 2
    assert receipt.problems[0].code == "onbekende_bestandsnaam"


def test_header_and_a_single_cut_off_character_is_rejected_not_crashed(tmp_path: Path) -> None:
    """Found by the property test: a data line of one byte without a newline."""
    path = tmp_path / "politie_registraties_2024Q3.csv"
    path.write_bytes((",".join(header(POLICE)) + "\nP").encode("utf-8"))
    receipt = validate_file(path)
    assert receipt.status == "afgekeurd"
    assert "interne_fout" not in {p.code for p in receipt.problems}
