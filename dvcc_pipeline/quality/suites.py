"""Every quality check on the marts, in one place.

Each suite names the mart it guards, what it checks (in Dutch, shown in the Dagster UI), the
rows it looks at (a query on a read-only warehouse connection) and the Great Expectations it
applies to them. Column rules (keys, required, ranges, allowed values) come from
`data_contracts/published.yaml`; the thresholds of the warnings are the constants below.
Blocking suites stop publication when they fail; the others only warn.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any

import duckdb

from dvcc_pipeline.config import get_settings
from dvcc_pipeline.publication.audit import audited_tables
from dvcc_pipeline.publication.contract import PublishedContract, PublishedTable, identifier
from dvcc_pipeline.publication.control import ControlResult, protect_publication, store_path
from dvcc_pipeline.publication.publish import ACCEPTED_STATUSES, REGIONS_TABLE, REGISTRATIONS

# Year-on-year change (%) beyond which a district or eenheid figure is worth a second look,
# counted only where the previous year had at least this many registrations.
PLAUSIBILITY_BAND_PCT = 50.0
PLAUSIBILITY_MIN_PREVIOUS = 20
# The feeds whose periods say which gemeente × year must be present in the indicators.
COUNTED_FEEDS = ("politie_registraties", "bank_fraudemeldingen", "fraudehelpdesk_meldingen")

# pandas is imported where a frame is made: loading the code location (and every `dvcc run`)
# then does not pay for it when there is nothing to check.
Frame = Callable[[duckdb.DuckDBPyConnection], "pd.DataFrame"]

if TYPE_CHECKING:
    import pandas as pd
    from great_expectations.expectations import Expectation


def _gx() -> ModuleType:
    """Great Expectations' expectation classes, imported only when a check runs (the import
    takes seconds, and loading the Dagster definitions must stay quick)."""
    import great_expectations.expectations as expectations

    return expectations


@dataclass(frozen=True)
class Suite:
    """One expectation suite = one Dagster asset check on one mart."""

    check: str
    asset: str
    description: str
    frame: Frame
    expectations: Callable[[], list[Expectation]]
    index_columns: list[str]
    blocking: bool = True
    tags: dict[str, str] = field(default_factory=dict)


def _exists(conn: duckdb.DuckDBPyConnection, schema: str, name: str) -> bool:
    return bool(
        conn.execute(
            "SELECT count(*) FROM duckdb_tables() WHERE database_name = current_database() AND schema_name = ? "
            "AND table_name = ?",
            [schema, name],
        ).fetchone()[0]
    )


# --- structure: keys, required columns, ranges and allowed values from the contract ---------


def _structure(table: PublishedTable) -> Suite:
    columns = table.mart_columns
    key = table.primary_key

    def expectations() -> list[Any]:
        gx = _gx()
        found: list[Any] = [gx.ExpectTableColumnsToMatchSet(column_set=[c.name for c in columns], exact_match=False)]
        if len(key) > 1:
            found.append(gx.ExpectCompoundColumnsToBeUnique(column_list=key))
        elif key:
            found.append(gx.ExpectColumnValuesToBeUnique(column=key[0]))
        for column in columns:
            if column.required:
                found.append(gx.ExpectColumnValuesToNotBeNull(column=column.name))
            if column.minimum is not None or column.maximum is not None:
                found.append(
                    gx.ExpectColumnValuesToBeBetween(
                        column=column.name, min_value=column.minimum, max_value=column.maximum
                    )
                )
            if column.allowed:
                found.append(gx.ExpectColumnValuesToBeInSet(column=column.name, value_set=list(column.allowed)))
        return found

    # Only the contract's columns; decimals as floats so pandas and GX compare numbers.
    selected = ", ".join(
        f"CAST({identifier(c.name)} AS DOUBLE) AS {identifier(c.name)}"
        if c.physical_type.startswith("DECIMAL")
        else identifier(c.name)
        for c in columns
    )

    def frame(conn: duckdb.DuckDBPyConnection) -> pd.DataFrame:
        return conn.execute(f"SELECT {selected} FROM marts.{identifier(table.name)}").df()

    return Suite(
        check="structuur",
        asset=table.name,
        description=(
            f"Sleutels ({', '.join(key)}) uniek, verplichte kolommen gevuld, percentages tussen 0 en 100 "
            "en toegestane waarden volgens het publicatiecontract."
        ),
        frame=frame,
        expectations=expectations,
        index_columns=key,
    )


# --- completeness: every gemeente × year with deliveries is present ------------------------


def _completeness_frame(conn: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    if not _exists(conn, "raw", "deliveries"):
        import pandas as pd

        return pd.DataFrame({"jaar": [], "gemeentecode": [], "aanwezig": []})
    return conn.execute(
        f"""WITH jaren AS (
              SELECT DISTINCT CAST(left(periode, 4) AS INTEGER) AS jaar FROM raw.deliveries
              WHERE list_contains($statussen, status) AND list_contains($feeds, feed)),
            verwacht AS (SELECT jaren.jaar, g.gemeentecode FROM jaren CROSS JOIN marts.{identifier(REGIONS_TABLE)} g),
            aanwezig AS (
              SELECT DISTINCT jaar, regio_code AS gemeentecode FROM marts.ind_delictsvormen_jaar
              WHERE regio_niveau = 'gemeente')
            SELECT v.jaar, v.gemeentecode, a.gemeentecode IS NOT NULL AS aanwezig
            FROM verwacht v LEFT JOIN aanwezig a USING (jaar, gemeentecode) ORDER BY 1, 2""",
        {"statussen": list(ACCEPTED_STATUSES), "feeds": list(COUNTED_FEEDS)},
    ).df()


COMPLETENESS = Suite(
    check="volledigheid",
    asset="ind_delictsvormen_jaar",
    description="Elke gemeente staat erin voor elk jaar waarvoor leveringen zijn geaccepteerd.",
    frame=_completeness_frame,
    expectations=lambda: [_gx().ExpectColumnValuesToBeInSet(column="aanwezig", value_set=[True])],
    index_columns=["jaar", "gemeentecode"],
)


# --- reconciliation with the raw layer ---------------------------------------------------


def _reconciliation_frame(conn: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    raw = "SELECT NULL::INTEGER AS jaar, 0 AS rijen WHERE false"
    if _exists(conn, "raw", "politie_registraties") and _exists(conn, "raw", "deliveries"):
        raw = """SELECT CAST(left(_periode, 4) AS INTEGER) AS jaar, count(*) AS rijen FROM raw.politie_registraties
                 WHERE _levering_id IN (SELECT levering_id FROM raw.deliveries WHERE list_contains($statussen, status))
                 GROUP BY 1"""
    return conn.execute(
        f"""WITH ruw AS ({raw}),
            mart AS (SELECT jaar, sum(aantal) AS aantal FROM marts.fct_meldingen_kwartaal
                     WHERE bron = 'politie' GROUP BY 1)
            SELECT coalesce(ruw.jaar, mart.jaar) AS jaar, coalesce(ruw.rijen, 0) AS rijen_ruwe_laag,
                   CAST(coalesce(mart.aantal, 0) AS BIGINT) AS aantal_mart,
                   CAST(coalesce(mart.aantal, 0) - coalesce(ruw.rijen, 0) AS BIGINT) AS verschil
            FROM ruw FULL JOIN mart USING (jaar) ORDER BY 1""",
        {"statussen": list(ACCEPTED_STATUSES)} if "$statussen" in raw else None,
    ).df()


RECONCILIATION = Suite(
    check="aansluiting_ruwe_laag",
    asset="fct_meldingen_kwartaal",
    description=(
        "Het aantal politieregistraties per jaar in de mart is gelijk aan het aantal rijen van de "
        "geaccepteerde politieleveringen in de ruwe laag."
    ),
    frame=_reconciliation_frame,
    expectations=lambda: [_gx().ExpectColumnValuesToBeBetween(column="verschil", min_value=0, max_value=0)],
    index_columns=["jaar"],
)


# --- disclosure: what is about to be published is rounded, protected and audited -----------


def _published_in_memory(conn: duckdb.DuckDBPyConnection, contract: PublishedContract) -> dict[str, str]:
    """The publication as it would be published, in the gate's in-memory database: table name ->
    relation (the tables with disclosure rules in memory, the others in the marts).

    Disclosure control runs once per gate connection (all suites share it), exactly as
    `publish` runs it; its audit findings are kept in the in-memory table `_dc_audit` for the
    audit suite, and its decision in the store beside the warehouse for `publish`.
    """
    relations = {t.name: f"marts.{identifier(t.name)}" for t in contract.mart_tables}
    for table in audited_tables(contract):
        relations[table.name] = f"memory.main.{identifier(table.name)}"
    done = conn.execute(
        "SELECT count(*) FROM duckdb_tables() WHERE database_name = 'memory' AND table_name = '_dc_audit'"
    ).fetchone()[0]
    if done:
        return relations
    settings = get_settings()
    warehouse = conn.execute("SELECT path FROM duckdb_databases() WHERE database_name = 'wh'").fetchone()
    control = protect_publication(
        conn,
        contract,
        sources={t.name: f"marts.{identifier(t.name)}" for t in contract.mart_tables},
        targets=relations,
        regions=f"marts.{identifier(REGIONS_TABLE)}",
        registrations="intermediate.int_meldingen" if _exists(conn, *REGISTRATIONS) else None,
        secret=settings.rounding_key,
        store=store_path(Path(warehouse[0])) if warehouse and warehouse[0] else None,
    )
    _keep_findings(conn, control)
    return relations


def _keep_findings(conn: duckdb.DuckDBPyConnection, control: ControlResult) -> None:
    """The audit's findings as rows of `memory.main._dc_audit` (soort, plaats, interval, fout)."""
    audit = control.audit
    rows = [
        (
            "klein aantal exact terug te rekenen",
            f"{f.tabel}.{f.maat} {f.niveau} {f.sleutel}",
            f"{f.ondergrens:g} … {f.bovengrens:g}",
            True,
        )
        for f in audit.failures.itertuples()
    ]
    rows += [
        ("bedrag te nauw te schatten", f"{f.tabel}.{f.maat} {f.niveau} {f.sleutel}", "", True)
        for f in control.amounts.failures.itertuples()
    ]
    rows += [
        ("identiteit", kind, f"{n['vergelijkingen']} vergelijkingen, {n['fout']} fout", n["fout"] > 0)
        for kind, n in sorted(audit.identity_kinds.items())
    ]
    rows += [("tabel zonder koppeling", name, "", True) for name in audit.unlinked_tables]
    rows.append(("samenvatting", str(control.figures()), "", False))
    conn.execute("CREATE TABLE memory.main._dc_audit (soort VARCHAR, plaats VARCHAR, interval VARCHAR, fout BOOLEAN)")
    conn.executemany("INSERT INTO memory.main._dc_audit VALUES (?, ?, ?, ?)", rows)


def _audit_frame(contract: PublishedContract) -> Frame:
    def frame(conn: duckdb.DuckDBPyConnection) -> pd.DataFrame:
        _published_in_memory(conn, contract)
        return conn.execute("SELECT * FROM memory.main._dc_audit").df()

    return frame


def _interval_audit(contract: PublishedContract) -> Suite:
    policy = contract.policy
    return Suite(
        check="intervalaudit",
        asset="ind_totalen",
        description=(
            "Intervalaudit over alle gepubliceerde tabellen samen (afgeronde aantallen met hun marge, "
            f"exacte aantallen, verborgen bedragen): geen aantal van 1 tot {policy.min_cell_size} is exact "
            f"terug te rekenen, geen verborgen bedrag is nauwer dan {policy.amount_protection_pct:g}% te "
            "schatten, en elke optelrelatie uit het contract klopt op de echte cijfers. Blokkeert de publicatie."
        ),
        frame=_audit_frame(contract),
        expectations=lambda: [_gx().ExpectColumnValuesToBeInSet(column="fout", value_set=[False])],
        index_columns=["soort", "plaats", "interval"],
    )


def _rounding_frame(table: PublishedTable, contract: PublishedContract) -> Frame:
    """Every count as it would be published next to its true value: a NULL count, a count below
    eenheid that is no multiple of b or further than b−1 from the truth, or an eenheid count of
    k or more that differs from the truth is a failing row."""
    policy = contract.policy
    assert table.disclosure is not None

    def frame(conn: duckdb.DuckDBPyConnection) -> pd.DataFrame:
        relations = _published_in_memory(conn, contract)
        assert table.region is not None
        level = f"p.{identifier(table.region.level_column)}" if table.region.level_column else "$niveau"
        keys = " AND ".join(f"p.{identifier(c)} IS NOT DISTINCT FROM m.{identifier(c)}" for c in table.primary_key)
        label = " || ' | ' || ".join(f"coalesce(CAST(p.{identifier(c)} AS VARCHAR), '∅')" for c in table.primary_key)
        parts = []
        for count in table.disclosure.counts:
            published, true = f"p.{identifier(count)}", f"m.{identifier(count)}"
            parts.append(
                f"""SELECT '{count}' AS maat, {label} AS plaats, CAST({published} AS BIGINT) AS gepubliceerd,
                           ({true} IS NOT NULL AND {published} IS NULL)
                           OR (list_contains($afgerond, {level})
                               AND ({published} % $b <> 0 OR abs({published} - {true}) > $b - 1))
                           OR (NOT list_contains($afgerond, {level}) AND {true} >= $k AND {published} <> {true})
                           AS fout
                    FROM {relations[table.name]} AS p JOIN marts.{identifier(table.name)} AS m ON {keys}"""
            )
        named = {
            "afgerond": list(policy.rounded_levels),
            "b": int(policy.rounding_base),
            "k": int(policy.min_cell_size),
        }
        if not table.region.level_column:
            named["niveau"] = table.region.level
        return conn.execute(" UNION ALL ".join(parts), named).df()

    return frame


def _rounding(table: PublishedTable, contract: PublishedContract) -> Suite:
    policy = contract.policy
    return Suite(
        check="afronding",
        asset=table.name,
        description=(
            "Na onthullingscontrole is elk aantal gevuld; onder eenheidsniveau een veelvoud van "
            f"{policy.rounding_base} dat hoogstens {policy.rounding_base - 1} van het echte aantal afwijkt, "
            f"op eenheidsniveau vanaf {policy.min_cell_size} gelijk aan het echte aantal."
        ),
        frame=_rounding_frame(table, contract),
        expectations=lambda: [_gx().ExpectColumnValuesToBeInSet(column="fout", value_set=[False])],
        index_columns=["maat", "plaats", "gepubliceerd"],
    )


# --- warnings: implausible year-on-year change, late partners -----------------------------


def _plausibility_frame(conn: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    return conn.execute(
        """SELECT jaar, regio_niveau, regio_code, reeks, methode, aantal, aantal_vorig_jaar,
                  CAST(verandering_pct AS DOUBLE) AS verandering_pct
           FROM marts.ind_trend_jaar
           WHERE regio_niveau IN ('district', 'eenheid') AND aantal_vorig_jaar >= ?
             AND NOT coalesce(trendbreuk, false)""",
        [PLAUSIBILITY_MIN_PREVIOUS],
    ).df()


PLAUSIBILITY = Suite(
    check="plausibele_verandering",
    asset="ind_trend_jaar",
    description=(
        f"Waarschuwing: verandering ten opzichte van het vorige jaar groter dan {PLAUSIBILITY_BAND_PCT:.0f}% "
        "(district en eenheid, zonder trendbreuk)."
    ),
    frame=_plausibility_frame,
    expectations=lambda: [
        _gx().ExpectColumnValuesToBeBetween(
            column="verandering_pct", min_value=-PLAUSIBILITY_BAND_PCT, max_value=PLAUSIBILITY_BAND_PCT
        )
    ],
    index_columns=["jaar", "regio_niveau", "regio_code", "reeks", "methode"],
    blocking=False,
)


def _freshness_frame(conn: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    if not _exists(conn, "raw", "deliveries"):
        import pandas as pd

        return pd.DataFrame({"feed": [], "leverancier": [], "laatste_periode": [], "achter": []})
    return conn.execute(
        """WITH laatst AS (
             SELECT feed, leverancier, max(periode) AS laatste_periode FROM raw.deliveries
             WHERE list_contains(?, status) GROUP BY ALL)
           SELECT feed, leverancier, laatste_periode,
                  laatste_periode < max(laatste_periode) OVER (PARTITION BY feed) AS achter
           FROM laatst ORDER BY 1, 2""",
        [list(ACCEPTED_STATUSES)],
    ).df()


FRESHNESS = Suite(
    check="versheid_partners",
    asset="fct_meldingen_kwartaal",
    description=(
        "Waarschuwing: een partner heeft een recentere periode nog niet geleverd, terwijl andere "
        "partners van die feed dat wel deden."
    ),
    frame=_freshness_frame,
    expectations=lambda: [_gx().ExpectColumnValuesToBeInSet(column="achter", value_set=[False])],
    index_columns=["feed", "leverancier", "laatste_periode"],
    blocking=False,
)


def all_suites(contract: PublishedContract) -> list[Suite]:
    """The gate: structure of every published mart, then the cross-table and disclosure checks."""
    suites = [_structure(t) for t in contract.mart_tables]
    suites += [COMPLETENESS, RECONCILIATION]
    suites += [_rounding(t, contract) for t in audited_tables(contract)]
    suites.append(_interval_audit(contract))
    suites += [PLAUSIBILITY, FRESHNESS]
    return suites
