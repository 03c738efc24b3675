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
from dvcc_pipeline.publication.audit import audited_tables, interval_audit
from dvcc_pipeline.publication.contract import PublishedContract, PublishedTable, identifier
from dvcc_pipeline.publication.disclosure import apply_disclosure, disclosure_violations
from dvcc_pipeline.publication.protection import ProtectionResult, protect_publication, protection_store
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


# --- disclosure: what is about to be published has no visible small cell ------------------


def _suppressed_in_memory(
    conn: duckdb.DuckDBPyConnection, contract: PublishedContract, table: PublishedTable | None = None
) -> dict[str, str]:
    """The publication as it would be published, in the gate's in-memory database: table name ->
    relation (suppressed ones in memory, the others in the marts).

    Every table is suppressed in publication order, then the audit-driven secondary suppression
    runs over all of them together, exactly as `publish` does; this happens once per gate run
    (the gate reads all suites over one connection), so every disclosure suite sees the final
    publication. `table` is accepted for the callers that name the table they audit.
    """
    del table
    relations = {t.name: f"marts.{identifier(t.name)}" for t in contract.mart_tables}
    suppressed = [t for t in contract.publication_order if t.disclosure is not None]
    for step in suppressed:
        relations[step.name] = f"memory.main.{identifier(step.name)}"
    done = conn.execute(
        "SELECT count(*) FROM duckdb_tables() WHERE database_name = 'memory' AND table_name = '_dc_beschermd'"
    ).fetchone()[0]
    if done:
        return relations
    registrations = "intermediate.int_meldingen" if _exists(conn, *REGISTRATIONS) else None
    for step in suppressed:
        apply_disclosure(
            conn,
            step,
            contract.policy,
            source=f"marts.{identifier(step.name)}",
            target=relations[step.name],
            regions=f"marts.{identifier(REGIONS_TABLE)}",
            registrations=registrations,
            relations=relations,
        )
    warehouse = conn.execute("SELECT path FROM duckdb_databases() WHERE database_name = 'wh'").fetchone()
    _PROTECTION[id(conn)] = protect_publication(
        conn,
        contract,
        relations=relations,
        truth=_truth(contract),
        regions=f"marts.{identifier(REGIONS_TABLE)}",
        store=protection_store(Path(warehouse[0])) if warehouse and warehouse[0] else None,
        exact=get_settings().exact_audit,
    )
    conn.execute("CREATE TABLE memory.main._dc_beschermd AS SELECT 1 AS klaar")
    return relations


# The protection computed over a gate connection (by id), so the audit suite reads its final
# exact audit instead of auditing the same publication once more.
_PROTECTION: dict[int, ProtectionResult] = {}


def _truth(contract: PublishedContract) -> dict[str, str]:
    return {t.name: f"marts.{identifier(t.name)}" for t in audited_tables(contract)}


def _disclosure_frame(table: PublishedTable, contract: PublishedContract) -> Frame:
    def frame(conn: duckdb.DuckDBPyConnection) -> pd.DataFrame:
        relations = _suppressed_in_memory(conn, contract, table)
        cells, groups = disclosure_violations(
            conn,
            table,
            contract.policy,
            published=relations[table.name],
            regions=f"marts.{identifier(REGIONS_TABLE)}",
            relations=relations,
        )
        return conn.execute(
            f"""SELECT 'zichtbare kleine cel' AS soort,
                       regio_niveau || ' ' || regio_code || ' cel ' || cel_id AS plaats,
                       CAST(aantal AS BIGINT) AS waarde, klein AS fout FROM {cells}
                UNION ALL
                SELECT 'groep met één onderdrukte cel (ter informatie; de intervalaudit beslist)', groep,
                       onderdrukt_in_groep, false
                FROM {groups} WHERE lek"""
        ).df()

    return frame


def _audit_frame(contract: PublishedContract) -> Frame:
    def frame(conn: duckdb.DuckDBPyConnection) -> pd.DataFrame:
        relations = _suppressed_in_memory(conn, contract)
        # The protection ends with an exact audit of the final publication: its verdict is this
        # suite's (a publication protected earlier is audited again, not trusted).
        protection = _PROTECTION.pop(id(conn), None)
        exact = get_settings().exact_audit or not (protection is not None and protection.after.spread_only)
        if protection is None or protection.reused:
            regions = f"marts.{identifier(REGIONS_TABLE)}"
            audit = interval_audit(
                conn, contract, relations=relations, truth=_truth(contract), regions=regions, exact=exact
            )
        else:
            audit = protection.after
        exact = not audit.spread_only
        rows = [
            {
                "soort": ("terug te rekenen" if f.teruggerekend else "interval smaller dan k")
                if exact
                else "bescherming niet aangetoond (snelle audit)",
                "plaats": f"{f.tabel}.{f.maat} {f.niveau} {f.sleutel}",
                "interval": f"{f.ondergrens:g} … {f.bovengrens:g}" if exact else "",
                "fout": True,
            }
            for f in audit.failures.itertuples()
        ]
        rows += [
            {
                "soort": "identiteit",
                "plaats": kind,
                "interval": f"{n['gecontroleerd']} zichtbaar nagerekend, {n['fout']} fout",
                "fout": n["fout"] > 0,
            }
            for kind, n in sorted(audit.identity_kinds.items())
        ]
        rows += [
            {"soort": "tabel zonder koppeling", "plaats": name, "interval": "", "fout": True}
            for name in audit.unlinked_tables
        ]
        rows.append({"soort": "samenvatting", "plaats": str(audit.figures()), "interval": "", "fout": False})
        import pandas as pd

        return pd.DataFrame(rows)

    return frame


def _interval_audit(contract: PublishedContract) -> Suite:
    exact = get_settings().exact_audit
    mode = (
        "Strikt (DVCC_EXACT_AUDIT=1): altijd exact, blokkeert de publicatie."
        if exact
        else "Standaard: exact waar de snelle audit weinig open cellen laat, anders de snelle cijfers; "
        "een waarschuwing, geen blokkade."
    )
    return Suite(
        check="intervalaudit",
        asset="ind_totalen",
        description=(
            "Intervalaudit over alle gepubliceerde tabellen samen: geen onderdrukte cel is exact terug te "
            f"rekenen, geen klein aantal heeft een marge smaller dan {contract.policy.min_cell_size}, en elke "
            f"optelrelatie uit het contract klopt op de zichtbare cijfers. {mode}"
        ),
        frame=_audit_frame(contract),
        expectations=lambda: [_gx().ExpectColumnValuesToBeInSet(column="fout", value_set=[False])],
        index_columns=["soort", "plaats", "interval"],
        blocking=exact,
    )


def _disclosure(table: PublishedTable, contract: PublishedContract) -> Suite:
    return Suite(
        check="geen_kleine_cellen",
        asset=table.name,
        description=(
            f"Na onthullingscontrole is geen aantal 1 tot {contract.policy.min_cell_size} zichtbaar. Of een "
            "onderdrukte cel terug te rekenen is, beslist de intervalaudit."
        ),
        frame=_disclosure_frame(table, contract),
        expectations=lambda: [_gx().ExpectColumnValuesToBeInSet(column="fout", value_set=[False])],
        index_columns=["soort", "plaats", "waarde"],
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
    suites += [_disclosure(t, contract) for t in contract.mart_tables if t.disclosure is not None]
    suites.append(_interval_audit(contract))
    suites += [PLAUSIBILITY, FRESHNESS]
    return suites
