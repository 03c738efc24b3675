"""The short Dutch summary that `dvcc run` and `dvcc demo` print."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb

from dvcc_pipeline.config import Settings
from dvcc_pipeline.ingestion.receipt import plural

STATUS_ORDER = ("geaccepteerd", "geaccepteerd_met_afkeur", "vervangen", "duplicaat", "afgekeurd")
STATUS_WORDS = {
    "geaccepteerd": "geaccepteerd",
    "geaccepteerd_met_afkeur": "geaccepteerd met afgekeurde rijen",
    "vervangen": "vervangen",
    "duplicaat": "duplicaat",
    "afgekeurd": "afgekeurd",
}
MARKS = {"geaccepteerd": "✓", "geaccepteerd_met_afkeur": "!", "duplicaat": "=", "afgekeurd": "✗", "vervangen": "↻"}
REPLACED_EXPLAINED = (
    "(vervangen: een correctie met een hoger versienummer, zoals `_v2`, vervangt de eerdere levering "
    "van dezelfde periode volledig; alleen de correctie telt mee)"
)
LEDGER = "raw.deliveries"
_FIELDS = (
    "levering_id, feed, bestandsnaam, periode, leverancier, versie, status, rijen_afgekeurd, problemen, vervangen_door"
)


def ledger_state(warehouse: Path) -> dict[str, str]:
    """Every delivery id with its status, before a run; what changed after it is this run's work."""
    if not warehouse.exists():
        return {}
    try:
        with duckdb.connect(str(warehouse), read_only=True) as conn:
            return dict(conn.execute(f"select levering_id, status from {LEDGER}").fetchall())
    except duckdb.Error:  # no ledger yet, or the warehouse is busy: the run itself will say so
        return {}


def _fmt_int(value: int | float | None) -> str:
    return "-" if value is None else f"{int(value):,}".replace(",", ".")


def _fmt_eur(value: float | None) -> str:
    return "-" if value is None else "€ " + _fmt_int(round(float(value)))


def _rows(conn: duckdb.DuckDBPyConnection) -> list[dict]:
    cursor = conn.execute(f"select {_FIELDS} from {LEDGER} order by verwerkt_op, levering_id")
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def _fix_of(row: dict, rows: list[dict]) -> dict | None:
    """The later delivery of the same feed, period and supplier that was taken in, if any."""
    for other in rows:
        if (
            other["feed"] == row["feed"]
            and other["periode"] == row["periode"]
            and other["leverancier"] == row["leverancier"]
            and (other["versie"] or 0) > (row["versie"] or 0)
            and other["status"] in ("geaccepteerd", "geaccepteerd_met_afkeur", "vervangen")
        ):
            return other
    return None


def run_summary(conn: duckdb.DuckDBPyConnection, before: dict[str, str]) -> list[str]:
    """What arrived in this run and what happened to it; earlier rejections a correction in
    this run fixed are shown as resolved; `vervangen` is explained where it appears."""
    rows = _rows(conn)
    by_id = {row["levering_id"]: row for row in rows}
    new = [row for row in rows if row["levering_id"] not in before]
    if not new:
        return ["Deze run: geen nieuwe bestanden ontvangen.", *_still_open(rows, before)]
    lines = [f"Deze run: {_counted(new)}"]
    feeds = sorted({row["feed"] for row in new})
    if len(feeds) > 1:
        lines += [f"  {feed}: {_counted([r for r in new if r['feed'] == feed])}" for feed in feeds]
    mentions_replaced = False
    for row in new:  # every file that did not simply go in
        status, name = row["status"], row["bestandsnaam"]
        fix = _fix_of(row, rows) if status == "afgekeurd" else None
        if fix is not None:
            line = f"  ✓ {name}: afgekeurd, opgelost door {fix['bestandsnaam']} — {_first_problem(row['problemen'])}"
        elif status == "vervangen":
            mentions_replaced = True
            by = by_id.get(row["vervangen_door"] or "", {}).get("bestandsnaam", "een latere versie")
            line = f"  ↻ {name}: vervangen door {by}"
        elif status == "geaccepteerd":
            continue
        else:
            rejected = int(row["rijen_afgekeurd"] or 0)
            detail = f" ({plural(rejected, 'rij', 'rijen')} afgekeurd)" if status == "geaccepteerd_met_afkeur" else ""
            reason = _first_problem(row["problemen"])
            line = f"  {MARKS[status]} {name}: {STATUS_WORDS[status]}{detail}" + (f" — {reason}" if reason else "")
        lines.append(line)
    for row in rows:  # deliveries of earlier runs that this run replaced or corrected
        was = before.get(row["levering_id"])
        if was is None:
            continue
        if row["status"] == "vervangen" and was != "vervangen":
            mentions_replaced = True
            by = by_id.get(row["vervangen_door"] or "", {}).get("bestandsnaam", "een correctie")
            lines.append(f"  ↻ {row['bestandsnaam']} (eerdere run): vervangen door {by}")
        elif row["status"] == "afgekeurd" and (fix := _fix_of(row, new)) is not None:
            lines.append(f"  ✓ {row['bestandsnaam']} (eerdere run): afkeur opgelost door {fix['bestandsnaam']}")
    if mentions_replaced:
        lines.append(f"  {REPLACED_EXPLAINED}")
    return lines + _still_open(rows, before)


def _still_open(rows: list[dict], before: dict[str, str]) -> list[str]:
    """Rejections of earlier runs that no later version has fixed yet."""
    still_open = [
        row["bestandsnaam"]
        for row in rows
        if row["levering_id"] in before and row["status"] == "afgekeurd" and _fix_of(row, rows) is None
    ]
    if not still_open:
        return []
    shown = ", ".join(still_open[:5]) + (", …" if len(still_open) > 5 else "")
    return [f"Nog open uit eerdere runs: {len(still_open)} afgekeurd zonder correctie ({shown})"]


def _counted(rows: list[dict]) -> str:
    """`3 bestanden ontvangen — 2 geaccepteerd, 1 afgekeurd`."""
    counts: dict[str, int] = {}
    for row in rows:
        counts[row["status"]] = counts.get(row["status"], 0) + 1
    files = "bestand" if len(rows) == 1 else "bestanden"
    return f"{len(rows)} {files} ontvangen — " + ", ".join(
        f"{counts[s]} {STATUS_WORDS[s]}" for s in STATUS_ORDER if s in counts
    )


def scenario_check(conn: duckdb.DuckDBPyConnection, scenarios: list) -> tuple[list[str], bool]:
    """Each designed demo delivery against its expected status: a ✓/✗ line each, and whether all hold.

    A name delivered twice (the duplicate) is judged by the row of its own wave.
    """
    rows = _rows(conn)
    lines, ok = [], True
    for scenario in scenarios:
        found = [row for row in rows if row["bestandsnaam"] == scenario.file_name]
        row = (found[0] if scenario.wave == 1 else found[-1]) if found else None
        actual = row["status"] if row else "niet ontvangen"
        good = actual == scenario.expected_status
        ok &= good
        mark = "✓" if good else "✗"
        shown = STATUS_WORDS.get(scenario.expected_status, scenario.expected_status)
        detail = "" if good else f" (verwacht {shown}, werkelijk {STATUS_WORDS.get(actual, actual)})"
        lines.append(
            f"  {mark} ronde {scenario.wave}: {scenario.file_name} → {STATUS_WORDS.get(actual, actual)}{detail}"
        )
    return lines, ok


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


def print_summary(
    settings: Settings, published: Path | None, *, before: dict[str, str], published_now: bool = True
) -> None:
    """The summary of this run (`before`: the ledger as it was when the run started)."""
    if not settings.warehouse_path.exists():
        print("Nog geen warehouse: er is niets verwerkt.")
        return
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as conn:
        for line in run_summary(conn, before):
            print(line)
    print(f"Ontvangstbewijzen (per bestand, met wat u nu moet doen): {settings.receipts_dir}")
    if settings.pseudonym_key_is_demo:
        print("Let op: pseudoniemen zijn gemaakt met de vaste demosleutel; zet DVCC_PSEUDONYM_KEY voor echte data.")
    if settings.rounding_key_is_demo:
        print("Let op: de afronding is getrokken met de vaste demosleutel; zet DVCC_ROUNDING_KEY voor echte data.")
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
