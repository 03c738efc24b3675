"""The dbt project, built once on a tiny handcrafted raw layer in a temporary warehouse.

The raw tables have exactly the columns and types that ingestion writes
(docs/architecture.md); the expectations below are derived by hand from these rows and
the spec (taxonomy.md, published_tables.md), not from the SQL.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest
from dbt.cli.main import dbtRunner, dbtRunnerResult

from dvcc_pipeline.config import DBT_PROJECT_DIR, get_settings


def invoke_dbt(home: Path, *args: str) -> tuple[dbtRunnerResult, list[str]]:
    """Run dbt in-process on this project with target and logs under `home`; returns the failures too."""
    result = dbtRunner().invoke(
        [
            *args,
            "--project-dir",
            str(DBT_PROJECT_DIR),
            "--profiles-dir",
            str(DBT_PROJECT_DIR),
            "--target-path",
            str(home / "dbt_target"),
            "--log-path",
            str(home / "dbt_logs"),
            "--no-use-colors",
        ]
    )
    failures = [
        f"{r.node.unique_id}: {r.status} {r.message}"
        for r in (result.result or [])
        if str(r.status) not in ("success", "pass")
    ]
    return result, failures


RAW_DDL = {
    "politie_registraties": """
        registratie_id VARCHAR, registratiedatum DATE, pleegdatum DATE, soort_registratie VARCHAR,
        maatschappelijke_klasse VARCHAR, classificatie VARCHAR, online_kenmerk VARCHAR,
        modus_operandi VARCHAR, gemeentecode VARCHAR, slachtoffer_type VARCHAR,
        leeftijdsklasse VARCHAR, schadebedrag_eur DECIMAL(12,2), verdachte_bekend VARCHAR,
        doorgestuurd_om VARCHAR""",
    "bank_fraudemeldingen": """
        melding_id VARCHAR, bank VARCHAR, meldingsdatum DATE, fraudetype VARCHAR, kanaal VARCHAR,
        gemeentecode VARCHAR, klanttype VARCHAR, leeftijdsklasse VARCHAR,
        schadebedrag DECIMAL(12,2), vergoed_bedrag DECIMAL(12,2), aangifte_gedaan VARCHAR""",
    "fraudehelpdesk_meldingen": """
        "Meldingnummer" VARCHAR, "Datum melding" DATE, "Soort melding" VARCHAR,
        "Categorie" VARCHAR, "Gemeente" VARCHAR, "Leeftijd" VARCHAR, "Contactkanaal" VARCHAR,
        "Schade" VARCHAR, "Schadebedrag" DECIMAL(12,2), _gemeentecode VARCHAR""",
    "veiligheidsmonitor": """
        "ID" BIGINT, "RegioS" VARCHAR, "Perioden" VARCHAR, "Marges" VARCHAR,
        "Onderwerp" VARCHAR, "Waarde" DECIMAL(10,1)""",
    "programma_registraties": """
        registratie_id VARCHAR, datum DATE, actie INTEGER, activiteit VARCHAR, niveau VARCHAR,
        gebied VARCHAR, aantal INTEGER, omschrijving VARCHAR""",
}
META_DDL = "_levering_id VARCHAR, _periode VARCHAR, _leverancier VARCHAR, _rij INTEGER"
LEDGER_DDL = """
    levering_id VARCHAR, feed VARCHAR, bestandsnaam VARCHAR, periode VARCHAR, leverancier VARCHAR,
    versie INTEGER, sha256 VARCHAR, contractversie VARCHAR, status VARCHAR, rijen_totaal INTEGER,
    rijen_geaccepteerd INTEGER, rijen_afgekeurd INTEGER, ontvangen_op TIMESTAMP,
    verwerkt_op TIMESTAMP, archiefpad VARCHAR, ontvangstbewijs VARCHAR, problemen VARCHAR,
    vervangen_door VARCHAR"""

# (levering_id, feed, periode, leverancier, versie, status, totaal, geaccepteerd, afgekeurd)
LEDGER = [
    ("L-P-2023Q1", "politie_registraties", "2023Q1", "politie", 1, "geaccepteerd", 2, 2, 0),
    ("L-P-2023Q2", "politie_registraties", "2023Q2", "politie", 1, "geaccepteerd_met_afkeur", 3, 2, 1),
    ("L-P-2024Q1", "politie_registraties", "2024Q1", "politie", 1, "geaccepteerd", 3, 3, 0),
    ("L-P-2024Q2", "politie_registraties", "2024Q2", "politie", 1, "geaccepteerd", 3, 3, 0),
    ("L-P-2025Q1-1", "politie_registraties", "2025Q1", "politie", 1, "vervangen", 1, 1, 0),
    ("L-P-2025Q1-2", "politie_registraties", "2025Q1", "politie", 2, "geaccepteerd", 2, 2, 0),
    ("L-P-2025Q1-dup", "politie_registraties", "2025Q1", "politie", 2, "duplicaat", 2, 0, 0),
    ("L-P-2025Q2", "politie_registraties", "2025Q2", "politie", 1, "afgekeurd", 5, 0, 5),
    ("L-B-2024-01", "bank_fraudemeldingen", "2024-01", "ABNA", 1, "geaccepteerd", 2, 2, 0),
    ("L-F-2024-02", "fraudehelpdesk_meldingen", "2024-02", "fraudehelpdesk", 1, "geaccepteerd", 3, 3, 0),
    ("L-V-2023", "veiligheidsmonitor", "2023", "cbs", 1, "geaccepteerd", 10, 10, 0),
    ("L-V-2025", "veiligheidsmonitor", "2025", "cbs", 1, "geaccepteerd", 6, 6, 0),
    ("L-R-2025Q1", "programma_registraties", "2025Q1", "programmabureau", 1, "geaccepteerd", 3, 3, 0),
    ("L-R-2025Q4", "programma_registraties", "2025Q4", "programmabureau", 1, "geaccepteerd", 1, 1, 0),
]

# registratie_id, datum, soort, klasse, classificatie, online_kenmerk, MO, gemeente, schade, OM
POLITIE = [
    (
        "L-P-2023Q1",
        "P01",
        "2023-02-10",
        "aangifte",
        "F600",
        "MK2019",
        "cybercrime",
        "marktplaats",
        "GM0344",
        "100.00",
        "N",
    ),
    ("L-P-2023Q1", "P02", "2023-03-05", "melding", "F90", "MK2019", "cybercrime", "hack_account", "GM0344", None, "N"),
    ("L-P-2023Q2", "P03", "2023-05-01", "aangifte", "F600", "MK2019", "onbekend", "onbekend", "GM0307", None, "N"),
    ("L-P-2023Q2", "P04", "2023-06-01", "aangifte", "F600", "MK2019", "geen", "overig", "GM0307", "40.00", "N"),
    (
        "L-P-2024Q1",
        "P05",
        "2024-01-15",
        "aangifte",
        "F636",
        "MK2024",
        "gedigitaliseerd",
        "marktplaats",
        "GM0344",
        "250.50",
        "J",
    ),
    ("L-P-2024Q1", "P06", "2024-02-20", "aangifte", "F530", "MK2024", "geen", "overig", "GM0344", None, "N"),
    (
        "L-P-2024Q1",
        "P07",
        "2024-03-10",
        "aangifte",
        "F600",
        "MK2024",
        "cybercrime",
        "marktplaats",
        "GM0307",
        "1000.00",
        "N",
    ),
    ("L-P-2024Q2", "P08", "2024-04-02", "melding", "F90", "MK2024", "cybercrime", "overig", "GM0307", None, "N"),
    (
        "L-P-2024Q2",
        "P09",
        "2024-05-05",
        "aangifte",
        "A82",
        "MK2024",
        "gedigitaliseerd",
        "onbekend",
        "GM0034",
        None,
        "J",
    ),
    (
        "L-P-2024Q2",
        "P10",
        "2024-06-06",
        "aangifte",
        "A82",
        "MK2024",
        "cybercrime",
        "onbekend",
        "GM0034",
        "5000.00",
        "N",
    ),
    (
        "L-P-2025Q1-1",
        "P99",
        "2025-01-03",
        "aangifte",
        "F600",
        "MK2024",
        "gedigitaliseerd",
        "marktplaats",
        "GM0344",
        "9.00",
        "J",
    ),
    (
        "L-P-2025Q1-2",
        "P11",
        "2025-02-01",
        "aangifte",
        "F639",
        "MK2024",
        "gedigitaliseerd",
        "beleggen",
        "GM0344",
        "5000.00",
        "J",
    ),
    (
        "L-P-2025Q1-2",
        "P12",
        "2025-03-01",
        "aangifte",
        "F614",
        "MK2024",
        "gedigitaliseerd",
        "helpdesk",
        "GM0344",
        None,
        "J",
    ),
]

# melding_id, datum, fraudetype, kanaal, gemeente, leeftijd, schade
BANK = [
    ("ABNA-0001", "2024-01-10", "aankoopfraude", "marktplaats", "GM0344", "25-44", "120.00"),
    ("ABNA-0002", "2024-01-20", "bankhelpdeskfraude", "telefoon", "GM0307", "65+", "3000.00"),
]

# nummer, datum, soort, categorie, gemeente, code, kanaal, schade, bedrag
FHD = [
    ("F01", "2024-02-03", "Slachtoffer", "Webwinkelfraude", "utrecht", "GM0344", "Social media", "Ja", "75.00"),
    ("F02", "2024-02-04", "Poging", "Phishing", "Utrecht", "GM0344", "E-mail", "Nee", None),
    ("F03", "2024-02-05", "Slachtoffer", "Hacken", "Almere", "GM0034", "E-mail", "Nee", None),
]

# levering, jaar, regio, onderwerp, (waarde, ondergrens, bovengrens) — None = CBS "."
VM = [
    ("L-V-2023", 2023, "RE03", "aangifte_online", (16.9, 15.0, 18.9)),
    ("L-V-2023", 2023, "GM0344", "aangifte_online", (20.0, 17.5, 22.5)),
    ("L-V-2023", 2023, "GM0307", "aangifte_online", (None,)),
    ("L-V-2023", 2023, "RE03", "slachtoffer_online_totaal", (15.6, 14.8, 16.4)),
    ("L-V-2025", 2025, "RE03", "aangifte_online", (18.0, 17.0, 19.0)),
    ("L-V-2025", 2025, "RE03", "slachtoffer_online_totaal", (14.0, 13.2, 14.8)),
]

# levering, id, datum, actie, activiteit, niveau, gebied, aantal
PROGRAMMA = [
    ("L-R-2025Q1", "R01", "2025-01-15", 3, "kennisbijeenkomst", "regio", "Midden-Nederland", 3),
    ("L-R-2025Q1", "R02", "2025-02-15", 1, "informatiebeeld_besproken", "basisteam", "Utrecht-Stad", 2),
    ("L-R-2025Q1", "R03", "2025-03-15", 7, "huisbezoek", "gemeente", "GM0344", 1),
    ("L-R-2025Q4", "R04", "2025-11-01", 3, "kennisbijeenkomst", "regio", "Midden-Nederland", 10),
]


def _periode(levering_id: str) -> str:
    return next(row[2] for row in LEDGER if row[0] == levering_id)


def build_raw_layer(path: Path) -> None:
    """Create schema raw with the ingestion's tables and the rows above."""
    con = duckdb.connect(str(path))
    try:
        con.execute("create schema raw")
        for table, columns in RAW_DDL.items():
            con.execute(f"create table raw.{table} ({columns}, {META_DDL})")
        con.execute(f"create table raw.deliveries ({LEDGER_DDL})")
        for lid, feed, periode, leverancier, versie, status, tot, acc, rej in LEDGER:
            con.execute(
                "insert into raw.deliveries values (?, ?, ?, ?, ?, ?, ?, 'v1.0.0', ?, ?, ?, ?,"
                " timestamp '2025-12-01 10:00', timestamp '2025-12-01 10:01', null, null, null,"
                " null)",
                [lid, feed, f"{lid}.csv", periode, leverancier, versie, "0" * 64, status, tot, acc, rej],
            )
        for rij, (lid, rid, datum, soort, klasse, cls, kenmerk, mo, gm, schade, om) in enumerate(POLITIE, start=2):
            con.execute(
                "insert into raw.politie_registraties values (?, ?, null, ?, ?, ?, ?, ?, ?,"
                " 'persoon', '25-44', ?, 'N', ?, ?, ?, 'politie', ?)",
                [rid, datum, soort, klasse, cls, kenmerk, mo, gm, schade, om, lid, _periode(lid), rij],
            )
        for rij, (mid, datum, fraudetype, kanaal, gm, leeftijd, schade) in enumerate(BANK, start=2):
            con.execute(
                "insert into raw.bank_fraudemeldingen values (?, 'ABNA', ?, ?, ?, ?, 'particulier',"
                " ?, ?, 0, 'nee', 'L-B-2024-01', '2024-01', 'ABNA', ?)",
                [mid, datum, fraudetype, kanaal, gm, leeftijd, schade, rij],
            )
        for rij, (nr, datum, soort, cat, naam, gm, kanaal, schade, bedrag) in enumerate(FHD, start=2):
            con.execute(
                "insert into raw.fraudehelpdesk_meldingen values (?, ?, ?, ?, ?, '65+', ?, ?, ?, ?,"
                " 'L-F-2024-02', '2024-02', 'fraudehelpdesk', ?)",
                [nr, datum, soort, cat, naam, kanaal, schade, bedrag, gm, rij],
            )
        vm_id = 0
        for lid, jaar, regio, onderwerp, waarden in VM:
            for marge, waarde in zip(("MW00000", "MOG0095", "MBG0095"), waarden, strict=False):
                vm_id += 1
                con.execute(
                    "insert into raw.veiligheidsmonitor values (?, ?, ?, ?, ?, ?, ?, ?, 'cbs', ?)",
                    [vm_id, regio, f"{jaar}JJ00", marge, onderwerp, waarde, lid, str(jaar), vm_id + 1],
                )
        for rij, (lid, rid, datum, actie, activiteit, niveau, gebied, aantal) in enumerate(PROGRAMMA, start=2):
            con.execute(
                "insert into raw.programma_registraties values (?, ?, ?, ?, ?, ?, ?, null, ?, ?, 'programmabureau', ?)",
                [rid, datum, actie, activiteit, niveau, gebied, aantal, lid, _periode(lid), rij],
            )
    finally:
        con.close()


@dataclass(frozen=True)
class BuiltWarehouse:
    path: Path
    success: bool
    failures: list[str]

    def query(self, sql: str, params: list | None = None) -> list[tuple]:
        con = duckdb.connect(str(self.path))
        try:
            rows = con.execute(sql, params or []).fetchall()
        finally:
            con.close()
        # DECIMAL columns compare as floats in the assertions below
        return [tuple(float(v) if isinstance(v, Decimal) else v for v in row) for row in rows]


@pytest.fixture(scope="session")
def warehouse(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BuiltWarehouse]:
    """Run `dbt build` once for the whole session on the handcrafted raw layer."""
    home = tmp_path_factory.mktemp("dvcc_home")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("DVCC_HOME", str(home))
        settings = get_settings()
        settings.warehouse_dir.mkdir(parents=True, exist_ok=True)
        build_raw_layer(settings.warehouse_path)
        mp.setenv("DVCC_WAREHOUSE_PATH", str(settings.warehouse_path))
        result, failures = invoke_dbt(home, "build")
    yield BuiltWarehouse(settings.warehouse_path, result.success, failures)


def test_dbt_build_succeeds(warehouse: BuiltWarehouse) -> None:
    assert warehouse.success, "\n".join(warehouse.failures)


def _vm(jaar: int, regio: str) -> tuple[float, float, float]:
    """The fixture's aangifte_online value and interval for a region and year."""
    return next(w for _, j, r, o, w in VM if j == jaar and r == regio and o == "aangifte_online")  # type: ignore[return-value]


def test_label_cybercrime_with_marketplace_mo_is_aan_en_verkoopfraude(
    warehouse: BuiltWarehouse,
) -> None:
    # P07 (GM0307, 2024): label cybercrime, MO marktplaats -> aan_en_verkoopfraude by the MO,
    # yet it stays in the registered cybercrime series.
    aangiften, schade = warehouse.query(
        "select aangiften, schadebedrag_eur from marts.ind_delictsvormen_jaar"
        " where jaar = 2024 and regio_niveau = 'gemeente' and regio_code = 'GM0307'"
        " and delictsvorm = 'aan_en_verkoopfraude'"
    )[0]
    assert (aangiften, float(schade)) == (1, 1000.00)
    series = dict(
        warehouse.query(
            "select methode, aantal from marts.ind_trend_jaar where jaar = 2024"
            " and regio_niveau = 'gemeente' and regio_code = 'GM0307' and reeks = 'cybercrime'"
        )
    )
    # registered: P07 and P08 (both labelled cybercrime); harmonised: only P08 (overige_cybercrime)
    assert series == {"geregistreerd": 2, "geharmoniseerd": 1}


def test_unit_totals_per_delictsvorm_2024(warehouse: BuiltWarehouse) -> None:
    rows = warehouse.query(
        "select delictsvorm, aangiften, schadebedrag_eur, meldingen_bank, meldingen_fraudehelpdesk,"
        " rang from marts.ind_delictsvormen_jaar where jaar = 2024 and regio_niveau = 'eenheid'"
    )
    by_vorm = {r[0]: r[1:] for r in rows}
    # P05 + P07 aangiften; bank ABNA-0001 (aankoopfraude); FHD F01 (Webwinkelfraude, victim)
    assert by_vorm["aan_en_verkoopfraude"][:4] == (2, pytest.approx(1250.50), 1, 1)
    assert by_vorm["aan_en_verkoopfraude"][4] == 1
    # the FHD attempt (Poging, Phishing) does not count
    assert by_vorm["phishing"][3] == 0
    # offline forms get no rank; the melding P08 is no aangifte
    assert by_vorm["offline_overig"][0] == 1 and by_vorm["offline_overig"][4] is None
    assert by_vorm["overige_cybercrime"][0] == 0
    # the row of the replaced delivery (P99, 2025) is not in the figures
    assert warehouse.query(
        "select aangiften from marts.ind_delictsvormen_jaar where jaar = 2025"
        " and regio_niveau = 'eenheid' and delictsvorm = 'aan_en_verkoopfraude'"
    ) == [(0,)]


def test_trendbreuk_only_on_registered_2024(warehouse: BuiltWarehouse) -> None:
    rows = warehouse.query(
        "select jaar, methode, reeks, trendbreuk, toelichting, aantal, aantal_vorig_jaar,"
        " verandering_pct from marts.ind_trend_jaar where regio_niveau = 'eenheid'"
    )
    breaks = {(r[0], r[1]) for r in rows if r[3]}
    assert breaks == {(2024, "geregistreerd")}
    assert all("MK2019 → MK2024" in r[4] for r in rows if r[3])
    assert all("Schatting" in r[4] for r in rows if r[1] == "geharmoniseerd")
    cyber = {(r[0], r[1]): r[5:] for r in rows if r[2] == "cybercrime"}
    # registered cybercrime: 2023 P01, P02; 2024 P07, P08, P10 -> +50.0%
    assert cyber[(2024, "geregistreerd")] == (3, 2, pytest.approx(50.0))
    assert cyber[(2023, "geregistreerd")][1] is None
    fraude = {r[0]: r[5:] for r in rows if r[2] == "fraude_totaal" and r[1] == "geregistreerd"}
    # fraud classes: 2023 P01, P03 (unlabelled), P04 (offline); 2024 P05, P07
    assert fraude[2024] == (2, 3, pytest.approx(round(100 * (2 - 3) / 3, 1)))


def test_dark_number_arithmetic(warehouse: BuiltWarehouse) -> None:
    rows = {
        (r[0], r[1]): r[2:]
        for r in warehouse.query(
            "select jaar, regio_code, aangiften, aangiftebereidheid_pct, vm_jaar,"
            " bron_aangiftebereidheid, geschat_slachtoffers, ondergrens, bovengrens"
            " from marts.ind_dark_number where delictgroep = 'totaal'"
            " and regio_niveau in ('gemeente', 'eenheid')"
        )
    }
    # unit 2024: online aangiften P05, P07, P09, P10 with VM 2023 (RE03)
    pct, low, high = _vm(2023, "RE03")
    assert rows[(2024, "Midden-Nederland")] == (
        4,
        pytest.approx(pct),
        2023,
        "eigen_regio",
        round(4 / (pct / 100)),
        round(4 / (high / 100)),
        round(4 / (low / 100)),
    )
    # Utrecht 2024 has its own reliable value
    pct, low, high = _vm(2023, "GM0344")
    assert rows[(2024, "GM0344")][1:] == (
        pytest.approx(pct),
        2023,
        "eigen_regio",
        round(1 / (pct / 100)),
        round(1 / (high / 100)),
        round(1 / (low / 100)),
    )
    # Amersfoort has "." -> falls back to RE03, and says so
    assert rows[(2024, "GM0307")][1:4] == (pytest.approx(_vm(2023, "RE03")[0]), 2023, "terugval_re03")
    # 2025 uses the 2025 monitor
    assert rows[(2025, "Midden-Nederland")][2] == 2025


def test_quality_counts_from_ledger_and_labels(warehouse: BuiltWarehouse) -> None:
    rows = {
        (r[0], r[1]): r[2:]
        for r in warehouse.query(
            "select jaar, bron, leveringen, leveringen_afgekeurd, rijen_ontvangen,"
            " rijen_geaccepteerd, rijen_afgekeurd, pct_ongelabeld, pct_hoofdcategorie_afwijkend"
            " from marts.ind_kwaliteit"
        )
    }
    # 2025: the v2 correction and the rejected 2025Q2 file; not the replaced v1 nor the duplicate
    assert rows[(2025, "politie")][:5] == (2, 1, 7, 2, 5)
    # 2023: 4 registrations, P03 unlabelled, P01 registered cybercrime but harmonised gedigitaliseerd
    assert rows[(2023, "politie")][5:] == (pytest.approx(25.0), pytest.approx(25.0))
    assert rows[(2024, "bank")][5:] == (None, None)


def test_programme_progress_is_judged_at_the_data_date(warehouse: BuiltWarehouse) -> None:
    rows = {
        r[0]: r[1:]
        for r in warehouse.query(
            "select indicator, periode, basiswaarde, doelwaarde, realisatie, peildatum, status"
            " from marts.ind_programma_voortgang"
        )
    }
    # 3 + 10 knowledge meetings in 2025, data up to 2025Q4: target 12 reached
    assert rows["kennisbijeenkomsten"][3:] == (pytest.approx(13), date(2025, 12, 31), "behaald")
    # one Utrecht-Stad basisteam discussed it twice, the others not: the least is 0
    assert rows["informatiebeeld_besproken"][3] == 0
    assert rows["informatiebeeld_besproken"][5] == "achter"
    # instroom OM: 2024 P05, P09; 2025 (to 2025-03-31) P11, P12 -> target 2.2, on track
    assert rows["instroom_om"][:5] == (2025, pytest.approx(2), pytest.approx(2.2), pytest.approx(2), date(2025, 3, 31))
    assert rows["instroom_om"][5] == "op_koers"
    # victims 15.6 (2023) -> 13 (2027); 14.0 in 2025 is below the halfway line 14.3
    assert rows["slachtofferschap_online"][0] == 2025
    assert rows["slachtofferschap_online"][5] == "op_koers"
    # aangiftebereidheid 16.9 -> 20; 18.0 in 2025 is below the halfway line 18.45
    assert rows["aangiftebereidheid_online"][5] == "achter"


def test_marts_have_no_suppression_column(warehouse: BuiltWarehouse) -> None:
    columns = warehouse.query(
        "select table_name from information_schema.columns where table_schema = 'marts' and column_name = 'onderdrukt'"
    )
    assert columns == []


def test_victim_profile_counts_online_police_bank_and_fhd_victims(warehouse: BuiltWarehouse) -> None:
    rows = {
        (r[0], r[1], r[2], r[3], r[4]): r[5]
        for r in warehouse.query(
            "select regio_niveau, regio_code, bron, dimensie, waarde, aantal"
            " from marts.ind_slachtofferprofiel_jaar where jaar = 2024"
        )
    }
    eenheid = {k[2:]: v for k, v in rows.items() if k[0] == "eenheid"}
    # police 2024, online by delictsvorm: P05, P07, P08 (a melding), P09, P10 — all persons 25-44;
    # P06 is offline. The police records no channel.
    assert eenheid[("politie", "leeftijdsklasse", "25-44")] == 5
    assert sum(v for (b, d, _), v in eenheid.items() if (b, d) == ("politie", "leeftijdsklasse")) == 5
    assert not any(b == "politie" and d == "kanaal" for b, d, _ in eenheid)
    # bank: ABNA-0001 (25-44, marketplace), ABNA-0002 (65+, phone)
    assert eenheid[("bank", "leeftijdsklasse", "65+")] == 1 and eenheid[("bank", "kanaal", "telefoon")] == 1
    assert eenheid[("bank", "kanaal", "marktplaats")] == 1 and eenheid[("bank", "kanaal", "whatsapp")] == 0
    # Fraudehelpdesk: only the victims F01 (social media) and F03 (e-mail), not the attempt F02
    assert eenheid[("fraudehelpdesk", "leeftijdsklasse", "65+")] == 2
    assert eenheid[("fraudehelpdesk", "kanaal", "sociale_media")] == 1
    assert eenheid[("fraudehelpdesk", "kanaal", "email")] == 1
    assert eenheid[("fraudehelpdesk", "kanaal", "onbekend")] == 0
    # gemeente level: Amersfoort has P07 and P08, and the 65+ bank victim on the phone
    assert rows[("gemeente", "GM0307", "politie", "leeftijdsklasse", "25-44")] == 2
    assert rows[("gemeente", "GM0307", "bank", "kanaal", "telefoon")] == 1
    # the bank delivered only 2024: no bank rows in other years
    bank_years = warehouse.query("select distinct jaar from marts.ind_slachtofferprofiel_jaar where bron = 'bank'")
    assert bank_years == [(2024,)]


def test_programme_activities_roll_up_to_the_areas_above(warehouse: BuiltWarehouse) -> None:
    rows = {
        (r[0], r[1], r[2]): r[3]
        for r in warehouse.query(
            "select regio_niveau, regio_code, activiteit, aantal from marts.ind_programma_activiteiten"
            " where jaar = 2025"
        )
    }
    # R03: one house visit registered for Utrecht counts for its basisteam, district and the unit
    for area in (("gemeente", "GM0344"), ("basisteam", "Utrecht-Stad"), ("district", "Utrecht-Stad")):
        assert rows[(*area, "huisbezoek")] == 1
    assert rows[("eenheid", "Midden-Nederland", "huisbezoek")] == 1
    assert rows[("gemeente", "GM0307", "huisbezoek")] == 0
    # R02: discussed twice in basisteam Utrecht-Stad; not counted down for its municipality
    assert rows[("basisteam", "Utrecht-Stad", "informatiebeeld_besproken")] == 2
    assert rows[("eenheid", "Midden-Nederland", "informatiebeeld_besproken")] == 2
    assert rows[("gemeente", "GM0344", "informatiebeeld_besproken")] == 0
    assert rows[("basisteam", "Almere", "informatiebeeld_besproken")] == 0
    # R01 + R04: region-wide knowledge meetings count only for the unit
    assert rows[("eenheid", "Midden-Nederland", "kennisbijeenkomst")] == 13
    assert rows[("district", "Utrecht-Stad", "kennisbijeenkomst")] == 0
    # an activity the plan measures but nobody registered is a published 0
    assert rows[("eenheid", "Midden-Nederland", "ciso_bijeenkomst")] == 0
    assert warehouse.query("select distinct jaar from marts.ind_programma_activiteiten") == [(2025,)]
