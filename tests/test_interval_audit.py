"""The interval audit and the rounding that must pass it, on small hierarchical tables.

A small contract of its own (parts per categorie, linked to a totals table, both over a region
hierarchy) runs through the real rounding, redraw and audit code on DuckDB.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dvcc_pipeline.publication.audit import interval_audit
from dvcc_pipeline.publication.contract import PublishedContract, parse_published_contract
from dvcc_pipeline.publication.control import protect_publication

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
      roundingBase: 5
      dominanceThreshold: 0.85
      amountProtectionPct: 15
      maxRedraws: 5
      roundedLevels: [gemeente, basisteam, district]
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
          identity:
            aantal: {periode: jaar, bron: {value: politie}, soort: {value: aangifte}}
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
          identity:
            aantal: {periode: jaar, bron: {value: politie}, soort: {value: aangifte}, categorie: [categorie]}
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


REGIONS = "marts.dim_gemeente"
TARGETS = {"dim_gemeente": "marts.dim_gemeente", "t_delen": "main.pub_t_delen", "t_totaal": "main.pub_t_totaal"}


def _protect(conn: duckdb.DuckDBPyConnection, contract: PublishedContract, key: bytes = b"test", **kwargs):
    """Round, audit and redraw, as publication does."""
    return protect_publication(
        conn,
        contract,
        sources=TRUTH,
        targets=TARGETS,
        regions=REGIONS,
        registrations=None,
        secret=key,
        **kwargs,
    )


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


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=hierarchies(), key=st.binary(min_size=4, max_size=8))
def test_after_rounding_and_redraws_no_small_count_is_pinned(contract, data, key) -> None:
    """Random small hierarchical tables with a link between them: whatever the key, rounding and
    redraws leave no small count pinned (or the publication is refused), checked by a fresh audit."""
    gemeenten, counts = data
    with duckdb.connect() as conn:
        _marts(conn, gemeenten, counts)
        control = _protect(conn, contract, key=key)
        audit = interval_audit(conn, contract, relations=TARGETS, truth=TRUTH, regions=REGIONS)
        assert audit.pinned == control.audit.pinned
        assert control.passed == audit.passed
        if control.passed:
            assert audit.pinned == 0
        else:  # only an exact eenheid figure can pin a count no redraw frees
            assert control.redraw_rounds == contract.policy.max_redraws or not control.audit.redraw_identities
        for name in ("t_delen", "t_totaal"):
            bad, zero_moved = conn.execute(
                f"""SELECT count_if(p.regio_niveau <> 'eenheid'
                                    AND (p.aantal % 5 <> 0 OR abs(p.aantal - m.aantal) > 4)),
                           count_if(m.aantal = 0 AND p.aantal <> 0)
                    FROM {TARGETS[name]} p JOIN marts.{name} m USING (jaar, regio_niveau, regio_code
                    {", categorie" if name == "t_delen" else ""})"""
            ).fetchone()
            assert (bad, zero_moved) == (0, 0)


def _planted(conn: duckdb.DuckDBPyConnection) -> None:
    """One gemeente whose eenheid figures are exact: c0 = 6 and the total 7 pin c1 = 1."""
    gemeenten = pd.DataFrame(
        [("GM0001", "team", "district", "eenheid")], columns=["gemeentecode", "basisteam", "district", "eenheid"]
    )
    counts = pd.DataFrame([("GM0001", "c0", 6), ("GM0001", "c1", 1)], columns=["gemeentecode", "categorie", "aantal"])
    _marts(conn, gemeenten, counts)


def test_the_audit_catches_a_planted_pinned_count(contract) -> None:
    with duckdb.connect() as conn:
        _planted(conn)
        for name in ("t_delen", "t_totaal"):
            conn.execute(f"CREATE TABLE {TARGETS[name]} AS SELECT *, false AS onderdrukt FROM marts.{name}")
        conn.execute("UPDATE main.pub_t_delen SET aantal = 0 WHERE categorie = 'c1'")  # rounded down
        conn.execute("UPDATE main.pub_t_delen SET aantal = 5 WHERE categorie = 'c0' AND regio_niveau <> 'eenheid'")
        conn.execute("UPDATE main.pub_t_totaal SET aantal = 5 WHERE regio_niveau <> 'eenheid'")
        audit = interval_audit(conn, contract, relations=TARGETS, truth=TRUTH, regions=REGIONS)
    assert not audit.passed and audit.pinned >= 1
    failure = audit.failures.set_index("sleutel").loc["2024 | eenheid | eenheid | c1"]
    assert (failure["ondergrens"], failure["bovengrens"]) == (1.0, 1.0)
    assert audit.redraw_identities
    kinds = audit.identity_kinds
    assert all(n["fout"] == 0 for n in kinds.values()) and any("koppeling" in kind for kind in kinds)


def test_a_pinned_count_no_redraw_frees_is_refused(contract) -> None:
    """Exact eenheid figures pin the small count whatever the draw: the redraws give up and the
    publication does not pass."""
    with duckdb.connect() as conn:
        _planted(conn)
        control = _protect(conn, contract)
    assert not control.passed
    assert control.first_audit is not None and control.first_audit.pinned >= 1
    assert control.redraw_rounds == contract.policy.max_redraws


def test_redraws_free_a_count_pinned_by_its_draw(contract) -> None:
    """Two gemeenten of 4 under an eenheid of 8 (exact): when the draws round both down to 0, both
    are pinned at 4 (8 = a + b with a, b ≤ 4); their next draws free them."""
    gemeenten = pd.DataFrame(
        [("GM0001", "team", "district", "eenheid"), ("GM0002", "team", "district", "eenheid")],
        columns=["gemeentecode", "basisteam", "district", "eenheid"],
    )
    counts = pd.DataFrame(
        [("GM0001", "c0", 4), ("GM0001", "c1", 0), ("GM0002", "c0", 4), ("GM0002", "c1", 0)],
        columns=["gemeentecode", "categorie", "aantal"],
    )
    seen = []
    for key in range(200):  # the draws are fixed by the key: the first key that pins, deterministically
        with duckdb.connect() as conn:
            _marts(conn, gemeenten, counts)
            control = _protect(conn, contract, key=f"sleutel {key}".encode())
        seen.append((control.first_audit.pinned, control.audit.pinned, control.redraw_rounds))
        if control.first_audit.pinned:
            break
    first, after, rounds = seen[-1]
    assert first > 0 and rounds > 0 and after == 0 and control.passed, seen
    assert all(pinned == 0 for _, pinned, _ in seen)


def test_the_audit_rejects_an_identity_the_data_does_not_satisfy(contract) -> None:
    with duckdb.connect() as conn:
        _planted(conn)
        _protect(conn, contract)
        conn.execute("UPDATE marts.t_totaal SET aantal = aantal + 1 WHERE regio_niveau = 'eenheid'")
        audit = interval_audit(conn, contract, relations=TARGETS, truth=TRUTH, regions=REGIONS)
    assert not audit.passed and audit.wrong_identities


def test_a_saved_decision_is_reused_only_for_the_same_figures(contract, tmp_path: Path) -> None:
    """The gate decides once; publish applies the same draws, and the result is the same."""
    store = tmp_path / "onthullingscontrole.json"
    figures = "SELECT * FROM main.pub_t_delen ORDER BY ALL"
    data = (
        pd.DataFrame(
            [("GM0001", "t", "d", "e"), ("GM0002", "t", "d", "e")],
            columns=["gemeentecode", "basisteam", "district", "eenheid"],
        ),
        pd.DataFrame(
            [("GM0001", "c0", 3), ("GM0001", "c1", 12), ("GM0002", "c0", 7), ("GM0002", "c1", 2)],
            columns=["gemeentecode", "categorie", "aantal"],
        ),
    )
    with duckdb.connect() as conn:
        _marts(conn, *data)
        computed = _protect(conn, contract, store=store)
        first = conn.execute(figures).fetchall()
    assert not computed.reused and computed.passed and store.exists()
    with duckdb.connect() as conn:
        _marts(conn, *data)
        reused = _protect(conn, contract, store=store)
        assert reused.reused and reused.passed and conn.execute(figures).fetchall() == first
    with duckdb.connect() as conn:
        _marts(conn, *data)
        conn.execute("UPDATE marts.t_delen SET aantal = aantal + 1 WHERE categorie = 'c1'")
        assert not _protect(conn, contract, store=store).reused


def test_a_table_without_links_is_reported(tmp_path: Path) -> None:
    head, tail = CONTRACT_YAML.split("          links:")
    unlinked = head + tail.split("measures: [{measure: aantal, linked: aantal}]")[1]
    path = tmp_path / "published.yaml"
    path.write_text(unlinked, encoding="utf-8")
    contract = parse_published_contract(path)
    with duckdb.connect() as conn:
        _planted(conn)
        _protect(conn, contract)
        audit = interval_audit(conn, contract, relations=TARGETS, truth=TRUTH, regions=REGIONS)
    assert set(audit.unlinked_tables) == {"t_delen", "t_totaal"} and not audit.passed
