"""Disclosure control on a synthetic mart, checked on the published file itself."""

from __future__ import annotations

import duckdb
import pytest
from test_publication_support import (
    audit_published,
    build_warehouse,
    programme_registrations,
    reference_gemeenten,
)

from dvcc_pipeline.config import get_settings
from dvcc_pipeline.publication.contract import load_published_contract
from dvcc_pipeline.publication.publish import publish

CONTRACT = load_published_contract()
K = CONTRACT.policy.min_cell_size
SUPPRESSED_TABLES = [t for t in CONTRACT.tables if t.disclosure is not None]


@pytest.fixture(scope="module")
def published(tmp_path_factory: pytest.TempPathFactory):
    home = tmp_path_factory.mktemp("home")
    mp = pytest.MonkeyPatch()
    mp.setenv("DVCC_HOME", str(home))
    # the exact protection and audit: on this small warehouse the rounds reach a passing publication
    mp.setenv("DVCC_EXACT_AUDIT", "1")
    settings = get_settings()
    meldingen = build_warehouse(settings.warehouse_path)
    publish(settings)
    conn = duckdb.connect(str(settings.published_path), read_only=True)
    conn.register("meldingen", meldingen)
    conn.register("gemeenten", reference_gemeenten())
    yield conn
    conn.close()
    mp.undo()


def test_policy_comes_from_the_contract() -> None:
    assert (K, CONTRACT.policy.dominance_threshold) == (5, 0.85)


@pytest.mark.parametrize("table", SUPPRESSED_TABLES, ids=lambda t: t.name)
def test_no_small_count_is_visible_at_any_level(published, table) -> None:
    for count in table.disclosure.counts:
        visible_small = published.execute(
            f'SELECT count(*) FROM "{table.name}" WHERE "{count}" BETWEEN 1 AND {K - 1}'
        ).fetchone()[0]
        assert visible_small == 0, f"{table.name}.{count}"


def test_suppression_actually_happened_and_zero_stays_zero(published) -> None:
    suppressed, zeros = published.execute(
        """SELECT count_if(aangiften IS NULL AND onderdrukt), count_if(aangiften = 0)
           FROM ind_delictsvormen_jaar WHERE regio_niveau = 'gemeente'"""
    ).fetchone()
    assert suppressed > 0 and zeros > 0


def test_amount_is_withheld_with_its_count(published) -> None:
    leaked = published.execute(
        "SELECT count(*) FROM ind_delictsvormen_jaar WHERE aangiften IS NULL AND schadebedrag_eur IS NOT NULL"
    ).fetchone()[0]
    assert leaked == 0


def test_no_published_total_has_exactly_one_suppressed_delictsvorm(published) -> None:
    # The delictsvormen of one region-year add up to that region's total in ind_totalen: at any
    # level, the parts and that total together never hold exactly one hidden cell.
    groups = published.execute(
        """SELECT d.jaar, d.regio_niveau, d.regio_code,
                  count_if(d.aangiften IS NULL) + (any_value(t.aantal) IS NULL)::INT AS n
           FROM ind_delictsvormen_jaar AS d
           JOIN ind_totalen AS t ON t.periode = CAST(d.jaar AS VARCHAR) AND t.regio_niveau = d.regio_niveau
                AND t.regio_code = d.regio_code AND t.bron = 'politie' AND t.soort = 'aangifte'
           GROUP BY ALL HAVING n = 1"""
    ).fetchall()
    assert groups == []


def test_no_higher_region_has_exactly_one_suppressed_part(published) -> None:
    # Gemeenten add up to their (published) basisteam, basisteams to their district.
    parts = published.execute(
        """WITH ouder AS (
             SELECT DISTINCT 'gemeente' AS niveau, gemeentecode AS code, 'basisteam' AS ouder_niveau,
                    basisteam AS ouder FROM gemeenten
             UNION SELECT DISTINCT 'basisteam', basisteam, 'district', district FROM gemeenten),
           leden AS (
             SELECT i.jaar, i.delictsvorm, o.ouder_niveau, o.ouder, i.aangiften
             FROM ind_delictsvormen_jaar i JOIN ouder o ON o.niveau = i.regio_niveau AND o.code = i.regio_code
             UNION ALL
             SELECT i.jaar, i.delictsvorm, i.regio_niveau, i.regio_code, i.aangiften
             FROM ind_delictsvormen_jaar i WHERE i.regio_niveau IN ('basisteam', 'district'))
           SELECT jaar, delictsvorm, ouder, count(*) AS cellen, count_if(aangiften IS NULL) AS n
           FROM leden GROUP BY ALL HAVING cellen > 1 AND n = 1"""
    ).fetchall()
    assert parts == []


def test_a_hidden_year_is_not_the_sum_of_its_visible_quarters(published) -> None:
    """fct_meldingen_kwartaal's quarters add up to ind_delictsvormen_jaar's gemeente year: across
    the two tables no such group may have exactly one hidden cell, or subtraction reveals it."""
    single = published.execute(
        """WITH jaar AS (
             SELECT jaar, regio_code AS gemeentecode, delictsvorm, 'politie' AS bron, aangiften AS aantal
             FROM ind_delictsvormen_jaar WHERE regio_niveau = 'gemeente'
             UNION ALL
             SELECT jaar, regio_code, delictsvorm, 'bank', meldingen_bank
             FROM ind_delictsvormen_jaar WHERE regio_niveau = 'gemeente'),
           kwartalen AS (
             SELECT jaar, gemeentecode, delictsvorm, bron, aantal FROM fct_meldingen_kwartaal
             WHERE (bron, soort) IN (('politie', 'aangifte'), ('bank', 'melding')))
           SELECT j.jaar, j.gemeentecode, j.delictsvorm, j.bron
           FROM jaar AS j JOIN kwartalen AS k USING (jaar, gemeentecode, delictsvorm, bron)
           GROUP BY j.jaar, j.gemeentecode, j.delictsvorm, j.bron, j.aantal
           HAVING (j.aantal IS NULL)::INT + count_if(k.aantal IS NULL) = 1"""
    ).fetchall()
    assert single == []


def test_dark_number_and_its_delictsvormen_reveal_no_hidden_cell(published) -> None:
    """ind_dark_number's aangiften per delictgroep are the sum of the online delictsvormen of that
    group in ind_delictsvormen_jaar; together the two tables may not leave one hidden cell."""
    single = published.execute(
        """WITH delen AS (
             SELECT i.jaar, i.regio_niveau, i.regio_code, d.delictgroep,
                    count(*) AS cellen, count_if(i.aangiften IS NULL) AS verborgen
             FROM ind_delictsvormen_jaar AS i JOIN dim_delictsvorm AS d USING (delictsvorm)
             WHERE d.hoofdcategorie IN ('cybercrime', 'gedigitaliseerd')
             GROUP BY ALL)
           SELECT n.jaar, n.regio_niveau, n.regio_code, n.delictgroep
           FROM ind_dark_number AS n JOIN delen AS d USING (jaar, regio_niveau, regio_code, delictgroep)
           WHERE n.regio_niveau IN ('gemeente', 'basisteam')
             AND (n.aangiften IS NULL)::INT + d.verborgen = 1"""
    ).fetchall()
    assert single == []


def test_last_years_count_is_hidden_exactly_where_that_year_is(published) -> None:
    """ind_trend_jaar shows each count twice (aantal, and aantal_vorig_jaar a year later)."""
    pairs, hidden, mismatched = published.execute(
        """SELECT count(*), count_if(a.aantal IS NULL), count_if((a.aantal IS NULL) <> (b.aantal_vorig_jaar IS NULL))
           FROM ind_trend_jaar AS a JOIN ind_trend_jaar AS b
             ON b.jaar = a.jaar + 1 AND (b.regio_niveau, b.regio_code, b.reeks, b.methode)
                                      = (a.regio_niveau, a.regio_code, a.reeks, a.methode)"""
    ).fetchone()
    assert pairs > 0 and hidden > 0
    assert mismatched == 0


def test_audit_of_the_published_file_covers_the_links_between_tables(published) -> None:
    """The interval audit over every table and link, on the published file itself."""
    audit = audit_published(published, get_settings().warehouse_path)
    linked = {kind for kind, n in audit.identity_kinds.items() if "koppeling" in kind and n["gecontroleerd"] > 0}
    assert any(kind.startswith("ind_totalen.") for kind in linked)
    assert any("fct_meldingen_kwartaal" in kind for kind in linked)
    assert audit.passed, audit.summary()


def test_publication_order_puts_linked_tables_first() -> None:
    order = [t.name for t in CONTRACT.publication_order]
    for table in SUPPRESSED_TABLES:
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


def test_dominant_damage_is_withheld_but_the_count_stays(published) -> None:
    # Recompute dominance independently from the registrations (gemeente level).
    dominated = published.execute(
        """WITH cel AS (
             SELECT jaar, gemeentecode, delictsvorm, sum(schadebedrag_eur) AS totaal, max(schadebedrag_eur) AS grootste
             FROM meldingen WHERE bron = 'politie' AND soort = 'aangifte' GROUP BY ALL)
           SELECT i.aangiften, i.schadebedrag_eur
           FROM cel JOIN ind_delictsvormen_jaar i
             ON i.regio_niveau = 'gemeente' AND i.regio_code = cel.gemeentecode
            AND i.jaar = cel.jaar AND i.delictsvorm = cel.delictsvorm
           WHERE cel.grootste > 0.85 * cel.totaal"""
    ).fetchall()
    assert dominated, "the synthetic data should contain a dominated cell"
    assert all(amount is None for _, amount in dominated)


def test_district_figures_below_k_are_never_visible(published) -> None:
    assert (
        published.execute(
            "SELECT count(*) FROM ind_delictsvormen_jaar WHERE regio_niveau = 'district' AND aangiften BETWEEN 1 AND ?",
            [K - 1],
        ).fetchone()[0]
        == 0
    )


def test_derived_columns_do_not_reveal_suppressed_counts(published) -> None:
    assert (
        published.execute(
            "SELECT count(*) FROM ind_dark_number WHERE aangiften IS NULL AND geschat_slachtoffers IS NOT NULL"
        ).fetchone()[0]
        == 0
    )
    assert (
        published.execute(
            """SELECT count(*) FROM ind_trend_jaar
           WHERE (aantal IS NULL OR aantal_vorig_jaar IS NULL) AND verandering_pct IS NOT NULL"""
        ).fetchone()[0]
        == 0
    )


def test_victim_profile_is_suppressed_per_region_year_source_and_dimension(published) -> None:
    suppressed = published.execute(
        "SELECT count(*) FROM ind_slachtofferprofiel_jaar WHERE aantal IS NULL AND onderdrukt"
    ).fetchone()[0]
    assert suppressed > 0
    # The values of one dimension add up to all victims of that source in that region and year,
    # published as a total elsewhere (ind_totalen for bank and Fraudehelpdesk, the harmonised
    # online_totaal for the police): parts and total never hold exactly one hidden cell.
    single = published.execute(
        """WITH totaal AS (
             SELECT CAST(periode AS INTEGER) AS jaar, regio_niveau, regio_code, bron, aantal FROM ind_totalen
             WHERE soort = 'melding' AND bron IN ('bank', 'fraudehelpdesk') AND length(periode) = 4
             UNION ALL
             SELECT jaar, regio_niveau, regio_code, 'politie', aantal FROM ind_trend_jaar
             WHERE methode = 'geharmoniseerd' AND reeks = 'online_totaal')
           SELECT p.jaar, p.regio_niveau, p.regio_code, p.bron, p.dimensie
           FROM ind_slachtofferprofiel_jaar AS p JOIN totaal AS t USING (jaar, regio_niveau, regio_code, bron)
           GROUP BY ALL HAVING count_if(p.aantal IS NULL) + (any_value(t.aantal) IS NULL)::INT = 1"""
    ).fetchall()
    assert single == []


def test_programme_activities_are_published_unsuppressed(published) -> None:
    """Counts of the programme's own work are no victim data: small numbers stay visible."""
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


def _suppress_linked(conn: duckdb.DuckDBPyConnection, table) -> dict[str, str]:
    """Suppress the tables `table` is linked to (from the attached warehouse `wh`), in order."""
    from dvcc_pipeline.publication.disclosure import apply_disclosure

    relations = {t.name: f"wh.marts.{t.name}" for t in CONTRACT.mart_tables}
    for step in CONTRACT.dependencies(table):
        apply_disclosure(
            conn,
            step,
            CONTRACT.policy,
            source=f"wh.marts.{step.name}",
            target=f"gekoppeld_{step.name}",
            regions="wh.marts.dim_gemeente",
            registrations="wh.intermediate.int_meldingen",
            relations=relations,
        )
        relations[step.name] = f"gekoppeld_{step.name}"
    return relations


def test_audit_finds_small_cells_and_recoverable_groups(tmp_path) -> None:
    """The audit behind the gate's `geen_kleine_cellen` check catches both kinds of leak."""
    from dvcc_pipeline.publication.disclosure import apply_disclosure, disclosure_violations

    warehouse = tmp_path / "dvcc.duckdb"
    build_warehouse(warehouse)
    table = CONTRACT.table("ind_delictsvormen_jaar")
    with duckdb.connect() as conn:
        conn.execute("ATTACH ? AS wh (READ_ONLY)", [str(warehouse)])
        kwargs = {"regions": "wh.marts.dim_gemeente", "relations": _suppress_linked(conn, table)}
        apply_disclosure(
            conn,
            table,
            CONTRACT.policy,
            source="wh.marts.ind_delictsvormen_jaar",
            target="goed",
            registrations="wh.intermediate.int_meldingen",
            **kwargs,
        )
        cells, groups = disclosure_violations(conn, table, CONTRACT.policy, published="goed", **kwargs)
        # the group pass alone is not the guarantee (the interval audit is): no small cell is visible
        assert conn.execute(f"SELECT count_if(klein) FROM {cells}").fetchone()[0] == 0

        # Unsuppressed marts: small counts visible.
        conn.execute("CREATE TABLE ruw AS SELECT *, false AS onderdrukt FROM wh.marts.ind_delictsvormen_jaar")
        cells, _ = disclosure_violations(conn, table, CONTRACT.policy, published="ruw", **kwargs)
        assert conn.execute(f"SELECT count_if(klein) FROM {cells}").fetchone()[0] > 0

        # Publish one secondarily suppressed cell after all: its partner becomes recoverable.
        conn.execute(
            """UPDATE goed SET aangiften = m.aangiften FROM wh.marts.ind_delictsvormen_jaar m
               WHERE (goed.jaar, goed.regio_niveau, goed.regio_code, goed.delictsvorm)
                   = (SELECT (jaar, regio_niveau, regio_code, delictsvorm) FROM goed g
                      JOIN wh.marts.ind_delictsvormen_jaar m2 USING (jaar, regio_niveau, regio_code, delictsvorm)
                      WHERE g.aangiften IS NULL AND m2.aangiften >= 5 AND g.regio_niveau = 'gemeente' LIMIT 1)
                 AND (m.jaar, m.regio_niveau, m.regio_code, m.delictsvorm)
                   = (goed.jaar, goed.regio_niveau, goed.regio_code, goed.delictsvorm)"""
        )
        _, groups = disclosure_violations(conn, table, CONTRACT.policy, published="goed", **kwargs)
        assert conn.execute(f"SELECT count_if(lek) FROM {groups}").fetchone()[0] > 0


@pytest.mark.parametrize("name", [t.name for t in SUPPRESSED_TABLES])
def test_same_figures_in_another_row_order_hide_the_same_cells(tmp_path, name: str) -> None:
    """Secondary suppression breaks ties by key, not by physical row order: two publications
    of the same figures must hide the same cells, or together they would reveal both."""
    from dvcc_pipeline.publication.disclosure import apply_disclosure

    warehouse = tmp_path / "dvcc.duckdb"
    build_warehouse(warehouse)
    table = CONTRACT.table(name)
    with duckdb.connect() as conn:
        conn.execute("ATTACH ? AS wh (READ_ONLY)", [str(warehouse)])
        conn.execute(f"CREATE TABLE voorwaarts AS SELECT * FROM wh.marts.{name} ORDER BY ALL")
        conn.execute(f"CREATE TABLE achterwaarts AS SELECT * FROM wh.marts.{name} ORDER BY ALL DESC")
        relations = _suppress_linked(conn, table)
        for source in ("voorwaarts", "achterwaarts"):
            apply_disclosure(
                conn,
                table,
                CONTRACT.policy,
                source=source,
                target=f"pub_{source}",
                regions="wh.marts.dim_gemeente",
                registrations="wh.intermediate.int_meldingen",
                relations=relations,
            )
        differences = conn.execute(
            "SELECT count(*) FROM ((FROM pub_voorwaarts EXCEPT ALL FROM pub_achterwaarts) "
            "UNION ALL (FROM pub_achterwaarts EXCEPT ALL FROM pub_voorwaarts))"
        ).fetchone()[0]
        suppressed = conn.execute("SELECT count_if(onderdrukt) FROM pub_voorwaarts").fetchone()[0]
    assert suppressed > 0
    assert differences == 0
