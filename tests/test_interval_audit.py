"""The interval audit and the suppression that must pass it, on small hierarchical tables.

A small contract of its own (parts per categorie, linked to a totals table, both over a region
hierarchy) runs through the real disclosure, protection and audit code on DuckDB.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dvcc_pipeline.publication.audit import interval_audit
from dvcc_pipeline.publication.contract import PublishedContract, load_published_contract, parse_published_contract
from dvcc_pipeline.publication.disclosure import apply_disclosure
from dvcc_pipeline.publication.protection import protect_publication

CONTRACT_YAML = """
apiVersion: v3.1.0
kind: DataContract
id: audit-test
version: 1.0.0
status: active
customProperties:
  - property: publicationPolicy
    value:
      minCellSize: 5
      dominanceThreshold: 0.85
      suppressedLevels: [gemeente, basisteam, district]
      regionHierarchy: [gemeente, basisteam, district, eenheid]
  - property: readerCompatibility
    value: {minimumDuckdbVersion: "1.1.0"}
schema:
  - name: dim_gemeente
    physicalName: dim_gemeente
    customProperties:
      - property: region
        value: {level: gemeente, codeColumn: gemeentecode}
    properties:
      - {name: gemeentecode, physicalType: VARCHAR, primaryKey: true, primaryKeyPosition: 1}
      - {name: basisteam, physicalType: VARCHAR}
      - {name: district, physicalType: VARCHAR}
      - {name: eenheid, physicalType: VARCHAR}
  - name: t_totaal
    physicalName: t_totaal
    customProperties:
      - property: region
        value: {levelColumn: regio_niveau, codeColumn: regio_code}
      - property: disclosure
        value:
          counts: [aantal]
          groups: [{kind: regio}]
    properties:
      - {name: jaar, physicalType: INTEGER, primaryKey: true, primaryKeyPosition: 1}
      - {name: regio_niveau, physicalType: VARCHAR, primaryKey: true, primaryKeyPosition: 2}
      - {name: regio_code, physicalType: VARCHAR, primaryKey: true, primaryKeyPosition: 3}
      - {name: aantal, physicalType: BIGINT}
      - {name: onderdrukt, physicalType: BOOLEAN}
  - name: t_delen
    physicalName: t_delen
    customProperties:
      - property: region
        value: {levelColumn: regio_niveau, codeColumn: regio_code}
      - property: disclosure
        value:
          counts: [aantal]
          groups: [{kind: categorie, column: categorie}, {kind: regio}]
          links:
            - table: t_totaal
              match: {jaar: jaar, regio_niveau: regio_niveau, regio_code: regio_code}
              measures: [{measure: aantal, linked: aantal}]
    properties:
      - {name: jaar, physicalType: INTEGER, primaryKey: true, primaryKeyPosition: 1}
      - {name: regio_niveau, physicalType: VARCHAR, primaryKey: true, primaryKeyPosition: 2}
      - {name: regio_code, physicalType: VARCHAR, primaryKey: true, primaryKeyPosition: 3}
      - {name: categorie, physicalType: VARCHAR, primaryKey: true, primaryKeyPosition: 4}
      - {name: aantal, physicalType: BIGINT}
      - {name: onderdrukt, physicalType: BOOLEAN}
"""

LEVELS = ("gemeente", "basisteam", "district", "eenheid")


@pytest.fixture(scope="module")
def contract(tmp_path_factory: pytest.TempPathFactory) -> PublishedContract:
    path = tmp_path_factory.mktemp("contract") / "published.yaml"
    path.write_text(CONTRACT_YAML, encoding="utf-8")
    return parse_published_contract(path)


def _marts(conn: duckdb.DuckDBPyConnection, gemeenten: pd.DataFrame, counts: pd.DataFrame) -> None:
    """dim_gemeente, and both tables at every region level (complete grids)."""
    conn.register("gemeenten_df", gemeenten)
    conn.register("counts_df", counts)
    conn.execute(
        """CREATE SCHEMA marts;
           CREATE TABLE marts.dim_gemeente AS SELECT * FROM gemeenten_df;
           CREATE TEMP TABLE regio AS
             SELECT gemeentecode, 'gemeente' AS regio_niveau, gemeentecode AS regio_code FROM gemeenten_df
             UNION ALL SELECT gemeentecode, 'basisteam', basisteam FROM gemeenten_df
             UNION ALL SELECT gemeentecode, 'district', district FROM gemeenten_df
             UNION ALL SELECT gemeentecode, 'eenheid', eenheid FROM gemeenten_df;
           CREATE TABLE marts.t_delen AS
             SELECT 2024 AS jaar, r.regio_niveau, r.regio_code, c.categorie, sum(c.aantal)::BIGINT AS aantal
             FROM counts_df c JOIN regio r USING (gemeentecode) GROUP BY ALL;
           CREATE TABLE marts.t_totaal AS
             SELECT jaar, regio_niveau, regio_code, sum(aantal)::BIGINT AS aantal FROM marts.t_delen GROUP BY ALL;"""
    )


def _publish(conn: duckdb.DuckDBPyConnection, contract: PublishedContract) -> dict[str, str]:
    relations = {t.name: f"marts.{t.name}" for t in contract.tables}
    for table in contract.publication_order:
        if table.disclosure is None:
            continue
        target = f"main.pub_{table.name}"
        apply_disclosure(
            conn,
            table,
            contract.policy,
            source=f"marts.{table.name}",
            target=target,
            regions="marts.dim_gemeente",
            registrations=None,
            relations=relations,
        )
        relations[table.name] = target
    return relations


TRUTH = {"t_totaal": "marts.t_totaal", "t_delen": "marts.t_delen"}


@st.composite
def hierarchies(draw: st.DrawFn) -> tuple[pd.DataFrame, pd.DataFrame]:
    rows = []
    for d in range(draw(st.integers(1, 3))):
        for b in range(draw(st.integers(1, 2))):
            for g in range(draw(st.integers(1, 3))):
                rows.append((f"GM{d}{b}{g:02d}", f"team {d}.{b}", f"district {d}", "eenheid"))
    gemeenten = pd.DataFrame(rows, columns=["gemeentecode", "basisteam", "district", "eenheid"])
    categories = [f"c{i}" for i in range(draw(st.integers(2, 4)))]
    small = st.one_of(st.integers(0, 6), st.integers(0, 40))
    counts = pd.DataFrame(
        [(code, cat, draw(small)) for code in gemeenten["gemeentecode"] for cat in categories],
        columns=["gemeentecode", "categorie", "aantal"],
    )
    return gemeenten, counts


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=hierarchies())
def test_after_suppression_no_cell_is_recovered_or_too_narrow(contract, data) -> None:
    gemeenten, counts = data
    with duckdb.connect() as conn:
        _marts(conn, gemeenten, counts)
        relations = _publish(conn, contract)
        protection = protect_publication(conn, contract, relations=relations, truth=TRUTH, regions="marts.dim_gemeente")
        audit = interval_audit(conn, contract, relations=relations, truth=TRUTH, regions="marts.dim_gemeente")
        assert audit.passed, audit.failures.to_string()
        assert (audit.recovered, audit.narrow) == (0, 0)
        assert protection.after.hidden == audit.hidden
        # primary suppression below eenheid, zeros always shown
        for name in ("t_delen", "t_totaal"):
            small_visible, zero_hidden = conn.execute(
                f"""SELECT count_if(p.aantal BETWEEN 1 AND 4 AND p.regio_niveau <> 'eenheid'),
                           count_if(p.aantal IS NULL AND m.aantal = 0)
                    FROM {relations[name]} p JOIN marts.{name} m USING (jaar, regio_niveau, regio_code
                    {", categorie" if name == "t_delen" else ""})"""
            ).fetchone()
            assert (small_visible, zero_hidden) == (0, 0)


def _planted(conn: duckdb.DuckDBPyConnection) -> None:
    """One basisteam of two gemeenten: A = 3 hidden, B = 10 and the basisteam's 13 visible."""
    gemeenten = pd.DataFrame(
        [("GM0001", "team", "district", "eenheid"), ("GM0002", "team", "district", "eenheid")],
        columns=["gemeentecode", "basisteam", "district", "eenheid"],
    )
    counts = pd.DataFrame(
        [("GM0001", "c0", 3), ("GM0001", "c1", 20), ("GM0002", "c0", 10), ("GM0002", "c1", 30)],
        columns=["gemeentecode", "categorie", "aantal"],
    )
    _marts(conn, gemeenten, counts)
    for name in ("t_delen", "t_totaal"):
        conn.execute(f"CREATE TABLE main.pub_{name} AS SELECT *, false AS onderdrukt FROM marts.{name}")
    conn.execute(
        "UPDATE main.pub_t_delen SET aantal = NULL, onderdrukt = true WHERE regio_code = 'GM0001' AND categorie = 'c0'"
    )


def test_the_audit_catches_a_planted_recoverable_cell(contract) -> None:
    with duckdb.connect() as conn:
        _planted(conn)
        relations = {"dim_gemeente": "marts.dim_gemeente", "t_delen": "pub_t_delen", "t_totaal": "pub_t_totaal"}
        audit = interval_audit(conn, contract, relations=relations, truth=TRUTH, regions="marts.dim_gemeente")
    assert not audit.passed
    assert audit.recovered == 1
    failure = audit.failures.iloc[0]
    assert (failure["tabel"], failure["sleutel"], failure["ondergrens"], failure["bovengrens"]) == (
        "t_delen",
        "2024 | gemeente | GM0001 | c0",
        3.0,
        3.0,
    )
    kinds = audit.identity_kinds
    assert all(n["fout"] == 0 for n in kinds.values()) and any("koppeling" in kind for kind in kinds)


def test_the_audit_rejects_an_identity_the_data_does_not_satisfy(contract) -> None:
    with duckdb.connect() as conn:
        _planted(conn)
        conn.execute("UPDATE main.pub_t_totaal SET aantal = aantal + 1 WHERE regio_niveau = 'eenheid'")
        relations = {"dim_gemeente": "marts.dim_gemeente", "t_delen": "pub_t_delen", "t_totaal": "pub_t_totaal"}
        audit = interval_audit(conn, contract, relations=relations, truth=TRUTH, regions="marts.dim_gemeente")
    assert not audit.passed and audit.wrong_identities


def test_protection_makes_the_planted_publication_pass(contract) -> None:
    with duckdb.connect() as conn:
        _planted(conn)
        relations = {"dim_gemeente": "marts.dim_gemeente", "t_delen": "pub_t_delen", "t_totaal": "pub_t_totaal"}
        protection = protect_publication(conn, contract, relations=relations, truth=TRUTH, regions="marts.dim_gemeente")
    assert protection.before.hidden == 1
    assert protection.after.passed and protection.added >= 1


def test_a_saved_protection_is_reused_only_for_the_same_figures(contract, tmp_path: Path) -> None:
    """The gate computes the protection once; publish applies it, and the result still passes."""
    store = tmp_path / "bescherming.json"
    relations = {"dim_gemeente": "marts.dim_gemeente", "t_delen": "pub_t_delen", "t_totaal": "pub_t_totaal"}
    hidden = "SELECT regio_code, categorie FROM pub_t_delen WHERE onderdrukt ORDER BY ALL"
    args = {"relations": relations, "truth": TRUTH, "regions": "marts.dim_gemeente", "store": store}
    with duckdb.connect() as conn:
        _planted(conn)
        computed = protect_publication(conn, contract, **args)
        first = conn.execute(hidden).fetchall()
    assert not computed.reused and store.exists()
    with duckdb.connect() as conn:
        _planted(conn)
        reused = protect_publication(conn, contract, **args)
        assert reused.reused and conn.execute(hidden).fetchall() == first
        audit = interval_audit(conn, contract, relations=relations, truth=TRUTH, regions="marts.dim_gemeente")
        assert audit.passed and audit.hidden == computed.after.hidden
    with duckdb.connect() as conn:
        _planted(conn)
        conn.execute("UPDATE marts.t_delen SET aantal = aantal + 1 WHERE categorie = 'c1'")
        assert not protect_publication(conn, contract, **args).reused


def test_a_table_without_links_is_reported(tmp_path: Path) -> None:
    head, tail = CONTRACT_YAML.split("          links:")
    unlinked = head + tail.split("measures: [{measure: aantal, linked: aantal}]")[1]
    path = tmp_path / "published.yaml"
    path.write_text(unlinked, encoding="utf-8")
    contract = parse_published_contract(path)
    with duckdb.connect() as conn:
        _planted(conn)
        relations = {"dim_gemeente": "marts.dim_gemeente", "t_delen": "pub_t_delen", "t_totaal": "pub_t_totaal"}
        audit = interval_audit(conn, contract, relations=relations, truth=TRUTH, regions="marts.dim_gemeente")
    assert set(audit.unlinked_tables) == {"t_delen", "t_totaal"} and not audit.passed


@pytest.mark.slow
def test_the_strict_audit_passes_on_the_demo(demo_home: Path, tmp_path: Path, monkeypatch) -> None:
    """The guarantee on the scale-1 demo, through the gate's own check in strict mode: the rounds
    (eenheid cells as the last resort) leave no hidden cell recoverable and no small one with an
    interval narrower than k, and the check blocks."""
    from dvcc_pipeline.quality.runner import run_suites
    from dvcc_pipeline.quality.suites import all_suites

    warehouse = tmp_path / "dvcc.duckdb"
    shutil.copy(demo_home / "warehouse" / "dvcc.duckdb", warehouse)
    monkeypatch.setenv("DVCC_EXACT_AUDIT", "1")
    suites = [s for s in all_suites(load_published_contract()) if s.check == "intervalaudit"]
    [outcome] = run_suites(suites, warehouse)
    assert outcome.suite.blocking
    assert outcome.passed, outcome.failures
