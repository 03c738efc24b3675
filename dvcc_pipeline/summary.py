"""The short Dutch summary that `dvcc run` and `dvcc demo` print."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb

from dvcc_pipeline.config import Settings

STATUS_ORDER = ("geaccepteerd", "geaccepteerd_met_afkeur", "vervangen", "duplicaat", "afgekeurd")


def _fmt_int(value: int | float | None) -> str:
    return "-" if value is None else f"{int(value):,}".replace(",", ".")


def _fmt_eur(value: float | None) -> str:
    return "-" if value is None else "€ " + _fmt_int(round(float(value)))


def deliveries_summary(conn: duckdb.DuckDBPyConnection) -> list[str]:
    rows = conn.execute("select status, count(*) from raw.deliveries group by status").fetchall()
    counts = dict(rows)
    lines = [
        f"Leveringen ontvangen: {sum(counts.values())} — "
        + ", ".join(f"{s}: {counts[s]}" for s in STATUS_ORDER if s in counts)
    ]
    notable = conn.execute(
        """
        select bestandsnaam, status, rijen_afgekeurd, problemen
        from raw.deliveries
        where status in ('afgekeurd', 'duplicaat', 'vervangen', 'geaccepteerd_met_afkeur')
        order by status, bestandsnaam
        """
    ).fetchall()
    for name, status, rejected_rows, problems in notable:
        reason = _first_problem(problems)
        detail = f" ({_fmt_int(rejected_rows)} rijen afgekeurd)" if status == "geaccepteerd_met_afkeur" else ""
        lines.append(f"  - {name}: {status}{detail}" + (f" — {reason}" if reason else ""))
    return lines


def _first_problem(problems: object) -> str:
    if problems is None:
        return ""
    items = json.loads(problems) if isinstance(problems, str) else problems
    if not items:
        return ""
    first = items[0]
    return str(first.get("melding", "")) if isinstance(first, dict) else str(first)


def region_overview(conn: duckdb.DuckDBPyConnection, year: int = 2024) -> list[str]:
    rows = conn.execute(
        """
        select delictsvorm, aangiften, schadebedrag_eur
        from ind_delictsvormen_jaar
        where jaar = ? and regio_niveau = 'eenheid' and aangiften > 0
        order by aangiften desc
        limit 12
        """,
        [year],
    ).fetchall()
    lines = [f"Midden-Nederland {year}, politie-aangiften per delictsvorm (top {len(rows)}):"]
    lines += [f"  {d:<28} {_fmt_int(n):>7} aangiften  {_fmt_eur(s):>14}" for d, n, s in rows]
    return lines


def print_summary(settings: Settings, published: Path | None, *, published_now: bool = True) -> None:
    if not settings.warehouse_path.exists():
        print("Nog geen warehouse: er is niets verwerkt.")
        return
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as conn:
        for line in deliveries_summary(conn):
            print(line)
    print(f"Ontvangstbewijzen: {settings.receipts_dir}")
    if settings.pseudonym_key_is_demo:
        print("Let op: pseudoniemen zijn gemaakt met de vaste demosleutel; zet DVCC_PSEUDONYM_KEY voor echte data.")
    use_published = published is not None and published.exists()
    source = published if use_published else settings.warehouse_path
    with duckdb.connect(str(source), read_only=True) as conn:
        if not use_published:
            conn.execute("use marts")
        print()
        try:
            for line in region_overview(conn):
                print(line)
        except duckdb.Error as exc:
            print(f"Overzicht per delictsvorm niet beschikbaar: {exc}")
    if use_published:
        label = "Gepubliceerd" if published_now else "Laatste geldige publicatie (ongewijzigd)"
        print(f"\n{label}: {published} (alleen-lezen openen)")
    index = settings.reports_dir / "index.html"
    if index.exists():
        print(f"Informatiebeeld per basisteam en gemeente: {index}")
