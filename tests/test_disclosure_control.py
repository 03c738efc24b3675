"""Disclosure control by keyed rounding on a synthetic warehouse, checked on the published files."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest
from test_publication_support import (
    audit_published,
    build_warehouse,
    programme_registrations,
    reference_gemeenten,
)

from dvcc_pipeline.config import get_settings
from dvcc_pipeline.publication.audit import audited_tables
from dvcc_pipeline.publication.contract import load_published_contract
from dvcc_pipeline.publication.publish import publish, write_municipality_extracts

CONTRACT = load_published_contract()
POLICY = CONTRACT.policy
K, B = POLICY.min_cell_size, POLICY.rounding_base
ROUNDED = list(POLICY.rounded_levels)
TABLES = audited_tables(CONTRACT)


def _publish_home(home: Path, key: str | None = None) -> Path:
    mp = pytest.MonkeyPatch()
    mp.setenv("DVCC_HOME", str(home))
    if key is None:
        mp.delenv("DVCC_ROUNDING_KEY", raising=False)
    else:
        mp.setenv("DVCC_ROUNDING_KEY", key)
    try:
        settings = get_settings()
        if not settings.warehouse_path.exists():
            build_warehouse(settings.warehouse_path)
        publish(settings)
        write_municipality_extracts(settings)
    finally:
        mp.undo()
    return home


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _publish_home(tmp_path_factory.mktemp("home"))


@pytest.fixture(scope="module")
def published(home: Path):
    conn = duckdb.connect(str(home / "published" / "published.duckdb"), read_only=True)
    conn.execute("ATTACH ? AS wh (READ_ONLY)", [str(home / "warehouse" / "dvcc.duckdb")])
    conn.register("gemeenten", reference_gemeenten())
    yield conn
    conn.close()


def _pairs(table) -> str:
    keys = " AND ".join(f"p.{c} IS NOT DISTINCT FROM m.{c}" for c in table.primary_key)
    return f"main.{table.name} AS p JOIN wh.marts.{table.name} AS m ON {keys}"


def test_policy_comes_from_the_contract() -> None:
    assert (K, B, POLICY.dominance_threshold, POLICY.amount_protection_pct) == (5, 5, 0.85, 15)


@pytest.mark.parametrize("table", TABLES, ids=lambda t: t.name)
def test_every_count_below_eenheid_is_a_multiple_of_the_base_and_never_null(published, table) -> None:
    for count in table.disclosure.counts:
        level = "p." + table.region.level_column if table.region.level_column else f"'{table.region.level}'"
        bad, nulls, rows = published.execute(
            f"""SELECT count_if(list_contains(?, {level}) AND p.{count} % ? <> 0),
                       count_if(p.{count} IS NULL AND m.{count} IS NOT NULL), count(*)
                FROM {_pairs(table)}""",
            [ROUNDED, B],
        ).fetchone()
        assert rows > 0 and bad == 0 and nulls == 0, f"{table.name}.{count}"


@pytest.mark.parametrize("table", TABLES, ids=lambda t: t.name)
def test_rounding_stays_within_the_base_and_eenheid_figures_from_k_are_exact(published, table) -> None:
    for count in table.disclosure.counts:
        level = "p." + table.region.level_column if table.region.level_column else f"'{table.region.level}'"
        far, inexact, zeros_moved = published.execute(
            f"""SELECT count_if(abs(p.{count} - m.{count}) > ? - 1),
                       count_if(NOT list_contains(?, {level}) AND m.{count} >= ? AND p.{count} <> m.{count}),
                       count_if(m.{count} = 0 AND p.{count} <> 0)
                FROM {_pairs(table)}""",
            [B, ROUNDED, K],
        ).fetchone()
        assert (far, inexact, zeros_moved) == (0, 0, 0), f"{table.name}.{count}"


def test_small_counts_are_rounded_both_ways_and_unbiased(published) -> None:
    table = CONTRACT.table("fct_meldingen_kwartaal")
    up, down, mean_change, rounded = published.execute(
        f"""SELECT count_if(p.aantal > m.aantal), count_if(p.aantal < m.aantal),
                   avg(p.aantal - m.aantal) FILTER (WHERE m.aantal % {B} <> 0), count_if(m.aantal % {B} <> 0)
            FROM {_pairs(table)}"""
    ).fetchone()
    assert up > 0 and down > 0
    # unbiased: the mean change of the rounded counts is close to 0 (b = 5: at most ±4 per cell)
    assert abs(mean_change) < 4 * 3 / rounded**0.5 + 0.05


def test_last_years_figure_is_the_same_figure_as_that_years(published) -> None:
    """The same quantity gets the same figure wherever it is published: ind_trend_jaar shows each
    count twice (aantal, and aantal_vorig_jaar a year later)."""
    pairs, differ = published.execute(
        """SELECT count(*), count_if(a.aantal IS DISTINCT FROM b.aantal_vorig_jaar)
           FROM ind_trend_jaar AS a JOIN ind_trend_jaar AS b
             ON b.jaar = a.jaar + 1 AND (b.regio_niveau, b.regio_code, b.reeks, b.methode)
                                      = (a.regio_niveau, a.regio_code, a.reeks, a.methode)"""
    ).fetchone()
    assert pairs > 0 and differ == 0


def test_a_cell_identity_is_the_same_in_every_table() -> None:
    """The same quantity named in two tables gets the same identity text, hence the same draw."""
    from dvcc_pipeline.publication.rounding import identity_sql

    trend = CONTRACT.table("ind_trend_jaar")
    with duckdb.connect() as conn:
        conn.execute(
            """CREATE TABLE s AS SELECT 2024 AS jaar, 'gemeente' AS _niveau, 'GM0001' AS _code,
                      'cybercrime' AS reeks, 'geregistreerd' AS methode"""
        )
        this_year = conn.execute(f"SELECT {identity_sql(trend, 'aantal')} FROM s").fetchone()[0]
        conn.execute("UPDATE s SET jaar = 2025")
        next_years_previous = conn.execute(f"SELECT {identity_sql(trend, 'aantal_vorig_jaar')} FROM s").fetchone()[0]
    assert this_year == next_years_previous


def test_parquet_and_extracts_hold_the_same_figures(published, home: Path) -> None:
    settings_dir = home / "published"
    for table in TABLES:
        parquet = settings_dir / "parquet" / f"{table.name}.parquet"
        differences = published.execute(
            f"""SELECT count(*) FROM ((FROM main.{table.name} EXCEPT ALL FROM read_parquet('{parquet}'))
                UNION ALL (FROM read_parquet('{parquet}') EXCEPT ALL FROM main.{table.name}))"""
        ).fetchone()[0]
        assert differences == 0, table.name
    extract = sorted((settings_dir / "gemeenten").glob("GM*.duckdb"))[0]
    published.execute("ATTACH ? AS uit (READ_ONLY)", [str(extract)])
    try:
        for table in TABLES:
            missing = published.execute(
                f"SELECT count(*) FROM (FROM uit.main.{table.name} EXCEPT ALL FROM main.{table.name})"
            ).fetchone()[0]
            assert missing == 0, table.name
    finally:
        published.execute("DETACH uit")


def _figures(home: Path) -> dict[str, list[tuple]]:
    with duckdb.connect(str(home / "published" / "published.duckdb"), read_only=True) as conn:
        return {t.name: conn.execute(f"SELECT * FROM main.{t.name} ORDER BY ALL").fetchall() for t in TABLES}


def test_a_republication_of_unchanged_data_gives_the_same_figures(home: Path, tmp_path: Path) -> None:
    before = _figures(home)
    # the same data in a fresh home (nothing reused): the same figures
    again = _publish_home(tmp_path / "opnieuw")
    assert _figures(again) == before


def test_another_key_draws_other_figures(home: Path, tmp_path: Path) -> None:
    other = _publish_home(tmp_path / "anders", key="een-andere-geheime-sleutel")
    mine, theirs = _figures(home), _figures(other)
    changed = sum(a != b for name in mine for a, b in zip(mine[name], theirs[name], strict=True))
    assert changed > 0


def test_amounts_are_hidden_for_small_counts_and_dominance_and_onderdrukt_concerns_amounts(published) -> None:
    small_visible, hidden, flagged_wrong = published.execute(
        """SELECT count_if(m.aangiften < ? AND p.schadebedrag_eur IS NOT NULL),
                  count_if(p.schadebedrag_eur IS NULL),
                  count_if(p.onderdrukt <> (p.schadebedrag_eur IS NULL))
           FROM main.ind_delictsvormen_jaar p JOIN wh.marts.ind_delictsvormen_jaar m
             USING (jaar, regio_niveau, regio_code, delictsvorm)""",
        [K],
    ).fetchone()
    assert small_visible == 0 and hidden > 0 and flagged_wrong == 0
    dominated = published.execute(
        """WITH cel AS (
             SELECT jaar, gemeentecode, delictsvorm, sum(schadebedrag_eur) AS totaal, max(schadebedrag_eur) AS grootste
             FROM wh.intermediate.int_meldingen WHERE bron = 'politie' AND soort = 'aangifte' GROUP BY ALL)
           SELECT i.aangiften, i.schadebedrag_eur
           FROM cel JOIN main.ind_delictsvormen_jaar i
             ON i.regio_niveau = 'gemeente' AND i.regio_code = cel.gemeentecode
            AND i.jaar = cel.jaar AND i.delictsvorm = cel.delictsvorm
           WHERE cel.grootste > 0.85 * cel.totaal"""
    ).fetchall()
    assert dominated, "the synthetic data should contain a dominated cell"
    assert all(amount is None and count is not None for count, amount in dominated)
    assert published.execute("SELECT count_if(onderdrukt) FROM ind_trend_jaar").fetchone()[0] == 0


def test_derived_columns_follow_the_published_counts(published) -> None:
    wrong_change = published.execute(
        """SELECT count(*) FROM ind_trend_jaar WHERE verandering_pct IS DISTINCT FROM
             CAST(round(100.0 * (aantal - aantal_vorig_jaar) / nullif(aantal_vorig_jaar, 0), 1) AS DECIMAL(10,1))"""
    ).fetchone()[0]
    wrong_estimate = published.execute(
        """SELECT count(*) FROM ind_dark_number WHERE
             geschat_slachtoffers IS DISTINCT FROM CAST(round(aangiften * 100.0 / aangiftebereidheid_pct) AS BIGINT)
             OR ondergrens IS DISTINCT FROM CAST(round(aangiften * 100.0 / aangiftebereidheid_bovengrens) AS BIGINT)"""
    ).fetchone()[0]
    wrong_rank = published.execute(
        """SELECT count(*) FROM (
             SELECT rang, rank() OVER (PARTITION BY jaar, regio_niveau, regio_code ORDER BY aangiften DESC) AS r
             FROM ind_delictsvormen_jaar WHERE rang IS NOT NULL) WHERE rang <> r"""
    ).fetchone()[0]
    ties = published.execute(
        "SELECT count(*) FROM ind_delictsvormen_jaar WHERE rang IS NOT NULL GROUP BY jaar, regio_niveau, regio_code, "
        "rang HAVING count(*) > 1 LIMIT 1"
    ).fetchall()
    assert (wrong_change, wrong_estimate, wrong_rank) == (0, 0, 0)
    assert ties, "rounded counts tie, and ties share a rank"


def test_eenheid_totals_reconcile_exactly_and_lower_totals_within_the_rounding(published) -> None:
    eenheid, lower = published.execute(
        f"""SELECT count_if(p.regio_niveau = 'eenheid' AND m.aantal >= {K} AND p.aantal <> m.aantal),
                   count_if(p.regio_niveau <> 'eenheid' AND abs(p.aantal - m.aantal) > {B - 1})
            FROM main.ind_totalen p
            JOIN wh.marts.ind_totalen m USING (periode, regio_niveau, regio_code, bron, soort)"""
    ).fetchone()
    assert (eenheid, lower) == (0, 0)


def test_the_audit_of_the_published_files_passes_over_every_link(published, home: Path) -> None:
    audit = audit_published(published, home / "warehouse" / "dvcc.duckdb")
    linked = {kind for kind, n in audit.identity_kinds.items() if "koppeling" in kind and n["vergelijkingen"] > 0}
    assert any(kind.startswith("ind_totalen.") for kind in linked)
    assert any("fct_meldingen_kwartaal" in kind for kind in linked)
    assert audit.small > 0
    assert audit.passed, audit.summary()


def test_the_publicatie_row_carries_the_figures(published) -> None:
    row = published.execute(
        "SELECT cellen_afgerond, aantallen_vastgepind, bedragen_verborgen, hertrekrondes, duur_s FROM publicatie"
    ).fetchone()
    assert row[0] > 0 and row[1] == 0 and row[2] > 0 and row[3] >= 0 and row[4] > 0


def test_publication_order_puts_linked_tables_first() -> None:
    order = [t.name for t in CONTRACT.publication_order]
    for table in TABLES:
        for link in table.disclosure.links:
            for name in link.references:
                assert order.index(name) < order.index(table.name)


def test_a_link_to_an_unknown_column_fails_when_the_contract_is_read(tmp_path) -> None:
    from dvcc_pipeline.publication.contract import PUBLISHED_CONTRACT_PATH, parse_published_contract

    text = PUBLISHED_CONTRACT_PATH.read_text(encoding="utf-8")
    broken = tmp_path / "published.yaml"
    broken.write_text(text.replace("linked: meldingen_bank}", "linked: meldingen_bnak}", 1), encoding="utf-8")
    with pytest.raises(ValueError, match="meldingen_bnak"):
        parse_published_contract(broken)


def test_programme_activities_are_published_unrounded(published) -> None:
    """Counts of the programme's own work are no victim data: small numbers stay as they are."""
    columns = [r[0] for r in published.execute("DESCRIBE ind_programma_activiteiten").fetchall()]
    assert "onderdrukt" not in columns
    registrations = programme_registrations()
    own = registrations[registrations["niveau"] == "gemeente"]
    published.register("eigen_registraties", own)
    mismatches = published.execute(
        """WITH verwacht AS (
             SELECT jaar, gebied AS regio_code, activiteit, sum(aantal) AS aantal
             FROM eigen_registraties GROUP BY ALL)
           SELECT v.*, p.aantal FROM verwacht v LEFT JOIN ind_programma_activiteiten p
             ON p.regio_niveau = 'gemeente' AND p.jaar = v.jaar AND p.regio_code = v.regio_code
            AND p.activiteit = v.activiteit
           WHERE p.aantal IS DISTINCT FROM v.aantal"""
    ).fetchall()
    assert mismatches == []
    small = published.execute(
        "SELECT count(*) FROM ind_programma_activiteiten WHERE aantal BETWEEN 1 AND ?", [K - 1]
    ).fetchone()[0]
    assert small > 0


def test_the_rounding_key_is_its_own_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DVCC_PSEUDONYM_KEY", "zelfde-sleutel")
    monkeypatch.setenv("DVCC_ROUNDING_KEY", "zelfde-sleutel")
    with pytest.raises(ValueError, match="DVCC_ROUNDING_KEY"):
        get_settings()
    monkeypatch.delenv("DVCC_ROUNDING_KEY")
    assert get_settings().rounding_key_is_demo
