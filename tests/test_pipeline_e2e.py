"""The whole pipeline on the scale-1 demo data: `dvcc demo`, then the figures of figures.md.

Runs the real CLI in a subprocess (generator, Dagster jobs, dbt, GX checks, publication)
once per session, then queries what it published. Figures come from the spec, not from the
implementation: ranges and percentages are copied from ../shared/spec/figures.md.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest
from test_publication_support import audit_published

BIN = Path(sys.executable).parent


@pytest.fixture(scope="session")
def published(demo_home: Path):
    conn = duckdb.connect(str(demo_home / "published" / "published.duckdb"), read_only=True)
    yield conn
    conn.close()


def _eenheid_2024(published, delictsvorm: str) -> tuple[int, float]:
    row = published.execute(
        """
        select aangiften, schadebedrag_eur from ind_delictsvormen_jaar
        where jaar = 2024 and regio_niveau = 'eenheid' and delictsvorm = ?
        """,
        [delictsvorm],
    ).fetchone()
    assert row is not None, delictsvorm
    return int(row[0]), float(row[1])


def test_demo_prints_a_dutch_summary(demo_home: Path) -> None:
    output = (demo_home / "demo_output.txt").read_text(encoding="utf-8")
    assert "Deze run: " in output and " bestanden ontvangen — " in output
    assert "Gepubliceerd:" in output
    assert "aan_en_verkoopfraude" in output
    # progress: plain stage lines (not a terminal), with elapsed time and files done per feed
    assert re.search(r"^✓ inname politie_registraties \(\d+,\d s, (\d+)/\1 bestanden\)$", output, re.M)
    assert re.search(r"^✓ dbt: standaardiseren en testen \(", output, re.M)
    assert re.search(r"^✓ publicatie \(", output, re.M)
    # this run's summary: the rejected KNAB file shows as resolved by its _v2, `vervangen` explained
    assert "afkeur opgelost door bank_KNAB_2025-02_v2.csv" in output
    assert "vervangen: een correctie met een hoger versienummer" in output
    # the demo checks every scenario
    assert "Alle scenario's kregen de verwachte status." in output
    assert "✗ ronde" not in output
    # a check that only warns is named in the output, not silently passed over; the interval audit
    # blocks (and passed), it never only warns
    assert "Let op: controle leveringen_geaccepteerd op raw/bank_fraudemeldingen geeft een waarschuwing" in output
    assert "Let op: controle intervalaudit" not in output
    assert "Let op: de afronding is getrokken met de vaste demosleutel" in output


def test_designed_deliveries_get_their_status(demo_home: Path) -> None:
    from dvcc_pipeline.demo.generator import _scenarios

    with duckdb.connect(str(demo_home / "warehouse" / "dvcc.duckdb"), read_only=True) as conn:
        statuses = conn.execute("select bestandsnaam, list(status) from raw.deliveries group by 1").fetchall()
    by_name = dict(statuses)
    for scenario in _scenarios():
        assert scenario.expected_status in by_name[scenario.file_name], scenario


@pytest.mark.parametrize(
    ("delictsvorm", "count_range", "damage_range"),
    [
        ("aan_en_verkoopfraude", (5500, 5599), (1_300_000, 1_399_999)),
        ("beleggingsfraude", (284, 284), (5_550_000, 5_649_999)),
        ("bankhelpdeskfraude", (1100, 1199), (4_250_000, 4_349_999)),
    ],
)
def test_police_2024_per_delictsvorm(published, delictsvorm, count_range, damage_range) -> None:
    count, damage = _eenheid_2024(published, delictsvorm)
    assert count_range[0] <= count <= count_range[1]
    assert damage_range[0] <= damage <= damage_range[1]


def test_the_three_forms_together(published) -> None:
    forms = ["aan_en_verkoopfraude", "beleggingsfraude", "bankhelpdeskfraude"]
    totals = [_eenheid_2024(published, f) for f in forms]
    assert 6800 <= sum(c for c, _ in totals) <= 6899
    assert sum(d for _, d in totals) > 10_000_000


def test_rankings(published) -> None:
    rows = published.execute(
        """
        select delictsvorm, aangiften, schadebedrag_eur from ind_delictsvormen_jaar
        where jaar = 2024 and regio_niveau = 'eenheid'
        """
    ).fetchall()
    by_count = sorted(rows, key=lambda r: r[1] or 0, reverse=True)
    by_damage = sorted(rows, key=lambda r: r[2] or 0, reverse=True)
    online = [r for r in by_count if r[0] not in ("offline_fraude", "offline_overig", "ongelabeld")]
    assert online[0][0] == "aan_en_verkoopfraude"
    assert [r[0] for r in by_damage[:2]] == ["beleggingsfraude", "bankhelpdeskfraude"]


@pytest.mark.parametrize(("reeks", "expected"), [("cybercrime", -42), ("fraude_totaal", 9), ("gedigitaliseerd", 12)])
def test_registered_trend_2023_2024(published, reeks: str, expected: int) -> None:
    pct, breuk, toelichting = published.execute(
        """
        select verandering_pct, trendbreuk, toelichting from ind_trend_jaar
        where jaar = 2024 and regio_niveau = 'eenheid' and reeks = ? and methode = 'geregistreerd'
        """,
        [reeks],
    ).fetchone()
    assert round(float(pct)) == expected
    assert breuk is True
    assert "MK2019" in toelichting and "MK2024" in toelichting


@pytest.mark.parametrize(
    ("onderwerp", "expected"),
    [("aangifte_online", 16.9), ("melding_elders_online", 40.0), ("slachtoffer_online_totaal", 15.6)],
)
def test_veiligheidsmonitor_2023_re03(published, onderwerp: str, expected: float) -> None:
    (value,) = published.execute(
        "select waarde from ind_veiligheidsmonitor where jaar = 2023 and regio_code = 'RE03' and onderwerp = ?",
        [onderwerp],
    ).fetchone()
    assert float(value) == expected


def test_counts_below_eenheid_are_rounded_to_the_base_and_never_hidden(published) -> None:
    bad, missing = published.execute(
        """
        select count_if(regio_niveau <> 'eenheid' and aangiften % 5 <> 0), count_if(aangiften is null)
        from ind_delictsvormen_jaar
        """
    ).fetchone()
    assert (bad, missing) == (0, 0)


def test_the_interval_audit_covers_every_published_table(published, demo_home) -> None:
    """The interval audit over every published table of the demo, links included: every identity
    holds on the true figures, every table is linked, no small count is pinned, and the
    publicatie row states what an independent audit of the published file finds."""
    audit = audit_published(published, demo_home / "warehouse" / "dvcc.duckdb")
    assert audit.small > 0 and audit.identities > 0
    assert (audit.wrong_identities, audit.unlinked_tables, audit.pinned) == ([], [], 0)
    row = published.execute(
        """SELECT aantallen_vastgepind, aantallen_klein_aangetoond, identiteiten
           FROM publicatie ORDER BY gepubliceerd_op DESC LIMIT 1"""
    ).fetchone()
    assert row == (0, audit.shown_small, audit.identities)


def test_programme_progress_has_targets_met_and_behind(published) -> None:
    statuses = {s for (s,) in published.execute("select distinct status from ind_programma_voortgang").fetchall()}
    assert "achter" in statuses
    assert statuses & {"behaald", "op_koers"}


def test_every_municipality_has_an_extract(demo_home: Path) -> None:
    reference = Path(__file__).parents[1] / "dbt_project" / "seeds" / "gemeenten_midden_nederland.csv"
    codes = [line.split(",")[0] for line in reference.read_text(encoding="utf-8").splitlines()[1:]]
    extracts = {p.stem for p in (demo_home / "published" / "gemeenten").glob("*.duckdb")}
    assert set(codes) <= extracts


def test_landing_is_left_empty(demo_home: Path) -> None:
    leftovers = [p for p in (demo_home / "landing").rglob("*") if p.is_file()]
    assert leftovers == []


def test_dbt_state_is_in_the_home(demo_home: Path) -> None:
    """The demo ran on a read-only checkout (conftest); dbt's parse, artifacts and log are here."""
    target = demo_home / "dbt" / "target"
    assert (target / "manifest.json").is_file() and (target / "partial_parse.msgpack").is_file()
    builds = [p.parent for p in target.glob("*/run_results.json")]
    assert builds and all((build / "dbt.log").is_file() for build in builds)
    # dbt's results reach the run page as text: no terminal colour codes around PASS/FAIL
    log = (builds[0] / "dbt.log").read_text(encoding="utf-8")
    assert " PASS " in log and "\\u001b[" not in log and "\x1b[" not in log


@pytest.mark.slow
def test_failing_check_keeps_the_live_publication_and_names_the_check(demo_home: Path, tmp_path: Path) -> None:
    """Force a blocking failure through the real CLI: a duplicated row in the incremental layer."""
    home = tmp_path / "home"
    shutil.copytree(demo_home, home, symlinks=True)
    live = home / "published" / "published.duckdb"
    before = hashlib.sha256(live.read_bytes()).hexdigest()
    with duckdb.connect(str(home / "warehouse" / "dvcc.duckdb")) as conn:
        conn.execute("INSERT INTO intermediate.int_meldingen SELECT * FROM intermediate.int_meldingen LIMIT 1")

    # Nothing new arrived, so only `--alles` builds and tests again.
    result = _dvcc(home, "run", "--alles")
    assert result.returncode == 1
    assert "Blokkerende controle mislukt: intermediate/int_meldingen:unique_combination" in result.stderr
    assert "Traceback" not in result.stderr and "Stack Trace" not in result.stderr
    assert "Laatste geldige publicatie (ongewijzigd)" in result.stdout
    assert hashlib.sha256(live.read_bytes()).hexdigest() == before


def _dvcc(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DVCC_HOME": str(home), "DVCC_SETTLE_SECONDS": "0"}
    return subprocess.run([str(BIN / "dvcc"), *args], env=env, capture_output=True, text=True, timeout=900)


def _published_tables(home: Path) -> dict[str, list[tuple]]:
    """Every published table's rows, except the publication history (timestamps)."""
    with duckdb.connect(str(home / "published" / "published.duckdb"), read_only=True) as conn:
        names = [r[0] for r in conn.execute("select table_name from information_schema.tables").fetchall()]
        return {n: sorted(conn.execute(f"select * from {n}").fetchall(), key=repr) for n in names if n != "publicatie"}


@pytest.mark.slow
def test_run_without_news_changes_nothing(demo_home: Path, tmp_path: Path) -> None:
    home = tmp_path / "home"
    shutil.copytree(demo_home, home, symlinks=True)
    live = home / "published" / "published.duckdb"
    before = hashlib.sha256(live.read_bytes()).hexdigest()
    result = _dvcc(home, "run")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Niets te verwerken" in result.stdout
    assert "Deze run: geen nieuwe bestanden ontvangen." in result.stdout
    assert "Laatste geldige publicatie (ongewijzigd)" in result.stdout
    assert hashlib.sha256(live.read_bytes()).hexdigest() == before
    # The run left a stamp: the next one answers in one line without loading Dagster.
    again = _dvcc(home, "run")
    assert again.returncode == 0, again.stdout + again.stderr
    assert again.stdout.startswith("Niets te doen: landing is leeg") and len(again.stdout.splitlines()) == 1
    # A file in landing takes the full path again.
    (home / "landing" / "bank_fraudemeldingen" / "onzin.txt").write_text("x\n", encoding="utf-8")
    third = _dvcc(home, "run")
    assert "Niets te doen" not in third.stdout and "Deze run: 1 bestand ontvangen" in third.stdout


@pytest.mark.slow
def test_police_correction_rebuilds_only_what_follows_and_equals_a_full_rebuild(
    demo_home: Path, tmp_path: Path
) -> None:
    """A police `_v3` rebuilds the police path and the marts, not the bank models; `--alles`
    afterwards rebuilds everything and publishes exactly the same tables."""
    import dagster as dg

    home = tmp_path / "home"
    shutil.copytree(demo_home, home, symlinks=True)
    archived = sorted((home / "archive" / "politie_registraties" / "2024Q3").glob("*.csv"))  # oldest first
    current = archived[-1]
    version = int(m[1]) if (m := re.search(r"_v(\d+)\.csv$", current.name)) else 1
    lines = current.read_text(encoding="utf-8").splitlines(keepends=True)
    kept = [line for number, line in enumerate(lines) if number == 0 or number % 10]
    correction = home / "landing" / "politie_registraties" / f"politie_registraties_2024Q3_v{version + 1}.csv"
    correction.write_text("".join(kept), encoding="utf-8")
    os.utime(correction, (0, 0))  # settled long ago
    before = _published_tables(home)

    result = _dvcc(home, "run")
    assert result.returncode == 0, result.stdout + result.stderr
    instance = dg.DagsterInstance.from_config(str(home / "dagster"))
    try:

        def last_run(*key: str) -> str:
            event = instance.get_latest_materialization_event(dg.AssetKey(list(key)))
            assert event is not None, key
            return event.run_id

        processing = last_run("published")
        assert last_run("intermediate", "int_politie_registraties") == processing
        assert last_run("marts", "ind_delictsvormen_jaar") == processing
        assert last_run("intermediate", "int_bank_meldingen") != processing
        assert last_run("marts", "ind_veiligheidsmonitor") != processing
    finally:
        instance.dispose()
    selective = _published_tables(home)
    assert selective["fct_meldingen_kwartaal"] != before["fct_meldingen_kwartaal"]

    result = _dvcc(home, "run", "--alles")
    assert result.returncode == 0, result.stdout + result.stderr
    assert _published_tables(home) == selective


@pytest.mark.slow
def test_failing_step_after_publication_says_the_new_version_is_live(demo_home: Path, tmp_path: Path) -> None:
    """A report step that fails after `published` went live must not claim nothing was published."""
    home = tmp_path / "home"
    shutil.copytree(demo_home, home, symlinks=True)
    shutil.rmtree(home / "reports")
    (home / "reports").write_text("geen map\n", encoding="utf-8")  # the report step cannot write here
    before = (home / "published" / "published.duckdb").stat().st_mtime_ns

    result = _dvcc(home, "run", "--alles")
    assert result.returncode == 1
    assert "Stap mislukt: informatiebeeld" in result.stderr
    assert "De nieuwe publicatie staat wel live" in result.stderr
    assert "Niets nieuws gepubliceerd" not in result.stderr
    assert "Gepubliceerd:" in result.stdout
    assert (home / "published" / "published.duckdb").stat().st_mtime_ns != before


def test_published_tables_are_complete_grids(published) -> None:
    """A row's presence says nothing about a hidden count: every key combination is published,
    zeros included (fct per delivered quarter and source; the indicators per year and region)."""
    incomplete = published.execute(
        """SELECT count(*) FROM (SELECT kwartaal, bron, soort, count(*) AS n FROM fct_meldingen_kwartaal GROUP BY ALL)
           WHERE n <> (SELECT count(*) FROM dim_gemeente) * (SELECT count(*) FROM dim_delictsvorm)"""
    ).fetchone()[0]
    assert incomplete == 0
    for table, keys in {
        "ind_delictsvormen_jaar": "delictsvorm",
        "ind_dark_number": "delictgroep",
        "ind_trend_jaar": "(reeks, methode)",
    }.items():
        rows, grid = published.execute(
            f"""SELECT count(*), (SELECT count(DISTINCT jaar) FROM {table})
                       * (SELECT count(DISTINCT (regio_niveau, regio_code)) FROM {table})
                       * (SELECT count(DISTINCT {keys}) FROM {table}) FROM {table}"""
        ).fetchone()
        assert rows == grid, table
    regions = published.execute(
        """SELECT count(*) FROM (SELECT periode, bron, soort, count(*) AS n FROM ind_totalen GROUP BY ALL)
           WHERE n <> (SELECT count(DISTINCT (regio_niveau, regio_code)) FROM ind_totalen)"""
    ).fetchone()[0]
    assert regions == 0
