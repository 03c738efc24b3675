"""Figures of disclosure control on one warehouse, for a closing note or a review.

`python -m dvcc_pipeline.publication.measure WAREHOUSE` runs disclosure control in memory
(nothing is written) as publication does, and prints as JSON: the counts rounded and their mean
absolute change, the amounts hidden (for a small count or dominance, then for protection), the
counts pinned before the redraws and the rounds needed, the counts shown to lie in 1 … k−1, the
seconds; and, on the same data, CBS's plain rounding (every count to the nearest multiple of b,
unkeyed, the attacker knowing each lies within b/2) through the same interval audit.
"""

from __future__ import annotations

import json
import sys
import time

import duckdb
import numpy as np
import pandas as pd

from dvcc_pipeline.config import get_settings
from dvcc_pipeline.publication.audit import audited_tables, interval_audit
from dvcc_pipeline.publication.contract import PublicationPolicy, identifier, load_published_contract
from dvcc_pipeline.publication.control import protect_publication
from dvcc_pipeline.publication.disclosure import state, true_column


def nearest_bounds(cells: pd.DataFrame, policy: PublicationPolicy) -> tuple[np.ndarray, np.ndarray]:
    """What an attacker knows of a figure rounded to the nearest multiple of b."""
    half = (int(policy.rounding_base) - 1) // 2
    r = cells["waarde"].fillna(0).to_numpy(dtype=float)
    return np.maximum(0.0, r - half), r + half


def measure(warehouse: str) -> dict[str, object]:
    contract = load_published_contract()
    b = int(contract.policy.rounding_base)
    with duckdb.connect() as conn:
        conn.execute("ATTACH ? AS wh (READ_ONLY)", [warehouse])
        targets = {t.name: f"main.{identifier(t.name)}" for t in contract.mart_tables}
        sources = {t.name: f"wh.marts.{identifier(t.name)}" for t in contract.mart_tables}
        for table in contract.mart_tables:
            if table.disclosure is None:
                conn.execute(f"CREATE TABLE {targets[table.name]} AS SELECT * FROM {sources[table.name]}")
        registrations = "wh.intermediate.int_meldingen"
        control = protect_publication(
            conn,
            contract,
            sources=sources,
            targets=targets,
            regions="wh.marts.dim_gemeente",
            registrations=registrations,
            secret=get_settings().rounding_key,
        )
        changes = []
        for table in audited_tables(contract):
            keys = " AND ".join(f"p.{identifier(c)} IS NOT DISTINCT FROM s.{identifier(c)}" for c in table.primary_key)
            for count in table.disclosure.counts:
                changes.append(
                    f"SELECT abs(p.{identifier(count)} - s.{true_column(count)}) AS d FROM {targets[table.name]} AS p "
                    f"JOIN {state(table)} AS s ON {keys} WHERE s.{true_column(count)} IS NOT NULL"
                )
        mean_change, changed = conn.execute(
            f"SELECT avg(d), count_if(d > 0) FROM ({' UNION ALL '.join(changes)})"
        ).fetchone()
        figures: dict[str, object] = {
            **control.figures(),
            "gemiddelde_absolute_verandering": round(float(mean_change), 3),
            "veranderd": int(changed),
            "bedragen_primair_verborgen": control.amounts.primary,
            "bedragen_cellen": control.amounts.cells,
            "bedragen_verborgen_eur": round(control.amounts.hidden_total_eur, 2),
            "audit_s": round(control.audit.seconds, 3),
            "audit_lps": control.audit.lps,
            "kleine_aantallen": control.audit.small,
        }
        # CBS: the same true counts, every one to the nearest multiple of b, no key
        for table in audited_tables(contract):
            keys = " AND ".join(f"p.{identifier(c)} IS NOT DISTINCT FROM s.{identifier(c)}" for c in table.primary_key)
            sets = ", ".join(
                f"{identifier(c)} = CAST(round(s.{true_column(c)} / {b}) * {b} AS BIGINT)"
                for c in table.disclosure.counts
            )
            conn.execute(f"UPDATE {targets[table.name]} AS p SET {sets} FROM {state(table)} AS s WHERE {keys}")
        started = time.perf_counter()
        plain = interval_audit(
            conn, contract, relations=targets, truth=sources, regions="wh.marts.dim_gemeente", bounds=nearest_bounds
        )
        figures["cbs_afronding"] = {
            "aantallen_vastgepind": plain.pinned,
            "aantallen_klein_aangetoond": plain.shown_small,
            "kleine_aantallen": plain.small,
            "duur_s": round(time.perf_counter() - started, 3),
        }
    return figures


if __name__ == "__main__":
    print(json.dumps(measure(sys.argv[1]), indent=2, ensure_ascii=False))
