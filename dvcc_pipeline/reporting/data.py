"""What a report shows, read from the published file only.

Every figure comes from `published.duckdb`, opened read-only, so disclosure control holds by
construction: counts below eenheid arrive rounded and are shown as published; only an amount can
be hidden (NULL with `onderdrukt`), and it stays None here. A headline figure is one published
cell for exactly that region and period (`ind_totalen`), never a sum of other cells: every total
is rounded from its own true value, so a sum of rounded parts would contradict it.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

import duckdb

QUARTER = re.compile(r"^(\d{4})Q([1-4])$")
ONLINE_HOOFDCATEGORIEEN = ("cybercrime", "gedigitaliseerd")
VM_ONDERWERPEN = ("slachtoffer_online_totaal", "aangifte_online", "melding_elders_online")
VM_EENHEID = "RE03"
AMOUNT = "schadebedrag_eur"  # the one measure disclosure control can still hide

# kerncijfers: (key, what the reader sees, bron, soort, measure of ind_totalen)
KERNCIJFERS: tuple[tuple[str, str, str, str, str], ...] = (
    ("aangiften", "Aangiften bij de politie, alle delictsvormen", "politie", "aangifte", "aantal"),
    ("bank", "Fraudemeldingen bij banken", "bank", "melding", "aantal"),
    ("fraudehelpdesk", "Meldingen van slachtoffers bij de Fraudehelpdesk", "fraudehelpdesk", "melding", "aantal"),
    ("schade_aangiften", "Schade in aangiften bij de politie", "politie", "aangifte", "schadebedrag_eur"),
    ("schade_bank", "Schade gemeld bij banken", "bank", "melding", "schadebedrag_eur"),
)


@dataclass(frozen=True)
class Region:
    """A basisteam or a municipality, with the areas above it."""

    niveau: str  # basisteam | gemeente
    code: str  # GMxxxx, or the basisteam's name
    naam: str
    basisteam: str
    district: str
    eenheid: str
    gemeenten: tuple[tuple[str, str], ...]  # (gemeentecode, gemeente) inside this region

    @property
    def gemeentecodes(self) -> list[str]:
        return [code for code, _ in self.gemeenten]

    @property
    def slug(self) -> str:
        base = self.code if self.niveau == "gemeente" else re.sub(r"[^a-z0-9]+", "-", self.naam.lower()).strip("-")
        return f"{self.niveau}-{base}"


@dataclass(frozen=True)
class Cel:
    """One published cell of `ind_totalen`: its value; `onderdrukt` only for a hidden amount."""

    waarde: Decimal | int | None
    onderdrukt: bool


@dataclass(frozen=True)
class Kerncijfer:
    key: str
    label: str
    regio: Cel
    regio_vorig: Cel
    district: Cel
    district_vorig: Cel
    eenheid: Cel
    eenheid_vorig: Cel


@dataclass(frozen=True)
class DelictsvormJaar:
    delictsvorm: str
    label: str
    aangiften: int | None
    schadebedrag_eur: Decimal | None
    meldingen_bank: int | None
    meldingen_fraudehelpdesk: int | None
    onderdrukt: bool  # the amount is hidden; counts are always published


@dataclass(frozen=True)
class Trend:
    kwartalen: list[str]
    reeksen: dict[str, list[int | None]]  # soort (aangifte, melding) -> police count per quarter, None: no row
    breukjaar: int | None
    toelichting: str | None
    jaarverandering: list[tuple[int, str, str, Decimal | None]]  # jaar, reeks, methode, pct (None: no base)


@dataclass(frozen=True)
class DarkNumber:
    jaar: int
    aangiften: int | None
    aangiftebereidheid_pct: Decimal | None
    vm_jaar: int | None
    bron_aangiftebereidheid: str | None
    geschat: int | None
    ondergrens: int | None
    bovengrens: int | None


@dataclass(frozen=True)
class VmWaarde:
    regio_naam: str
    regio_code: str
    jaar: int
    onderwerp: str
    waarde: Decimal | None
    ondergrens: Decimal | None
    bovengrens: Decimal | None
    betrouwbaar: bool | None
    doelwaarde: Decimal | None
    doeljaar: int | None


@dataclass(frozen=True)
class Voortgang:
    doel: int | None
    indicator: str
    omschrijving: str
    niveau: str
    periode: int
    realisatie: Decimal | None
    doelwaarde: Decimal | None
    doeljaar: int | None
    verwacht: Decimal | None
    status: str


@dataclass(frozen=True)
class Profiel:
    """Victims of one source with one age band or channel, in the region's year."""

    bron: str
    dimensie: str  # leeftijdsklasse | kanaal
    waarde: str
    aantal: int | None


@dataclass(frozen=True)
class Activiteit:
    """What the programme did in a year: in the region itself, its basisteam, and the whole unit."""

    activiteit: str
    eigen: int
    basisteam: int | None  # only for a municipality's report
    eenheid: int


@dataclass(frozen=True)
class Kwaliteit:
    bron: str
    leveringen: int | None
    leveringen_afgekeurd: int | None
    pct_rijen_afgekeurd: Decimal | None
    pct_ongelabeld: Decimal | None
    pct_hoofdcategorie_afwijkend: Decimal | None
    ontbrekend: list[str] = field(default_factory=list)  # periods of this year without any delivery


@dataclass(frozen=True)
class ReportData:
    region: Region
    kwartaal: str
    jaar: int
    kwartaalnummer: int
    periode: str  # the kerncijfers' period: the year after its fourth quarter, else the quarter
    periode_vorig: str  # the same period a year before
    k: int  # eenheid counts of k or more are exact
    base: int  # counts below eenheid are multiples of this
    publicatie_id: str
    gepubliceerd_op: str
    kerncijfers: list[Kerncijfer]
    delictsvormen: list[DelictsvormJaar]
    trend: Trend
    dark_number: DarkNumber | None
    veiligheidsmonitor: list[VmWaarde]
    voortgang: list[Voortgang]
    kwaliteit: list[Kwaliteit]
    profiel: list[Profiel] = field(default_factory=list)
    profiel_jaar: int | None = None
    activiteiten: list[Activiteit] = field(default_factory=list)
    activiteiten_jaar: int | None = None
    per_gemeente: list[tuple[str, str, dict[str, Cel]]] = field(default_factory=list)  # basisteams only


def connect(published_path: Path) -> duckdb.DuckDBPyConnection:
    """The published file, read-only: reports can never change what was published."""
    return duckdb.connect(str(published_path), read_only=True)


def published_quarters(conn: duckdb.DuckDBPyConnection) -> list[str]:
    return [r[0] for r in conn.execute("select distinct kwartaal from fct_meldingen_kwartaal order by 1").fetchall()]


def regions(conn: duckdb.DuckDBPyConnection) -> list[Region]:
    """Every basisteam, then every municipality, from dim_gemeente."""
    rows = conn.execute(
        "select gemeentecode, gemeente, basisteam, district, eenheid from dim_gemeente order by basisteam, gemeente"
    ).fetchall()
    teams: dict[str, list[tuple]] = {}
    for row in rows:
        teams.setdefault(row[2], []).append(row)
    result = [
        Region("basisteam", name, name, name, members[0][3], members[0][4], tuple((m[0], m[1]) for m in members))
        for name, members in teams.items()
    ]
    result += [Region("gemeente", r[0], r[1], r[2], r[3], r[4], ((r[0], r[1]),)) for r in rows]
    return result


def kerncijfer_periods(jaar: int, qn: int) -> tuple[str, str]:
    """The published period of the headline figures and the same period a year before.

    `ind_totalen` publishes years and quarters; a year-to-date figure would be a sum of cells.
    """
    return (str(jaar), str(jaar - 1)) if qn == 4 else (f"{jaar}Q{qn}", f"{jaar - 1}Q{qn}")


def load_report(conn: duckdb.DuckDBPyConnection, region: Region, kwartaal: str, k: int, base: int) -> ReportData:
    """Everything one report shows."""
    match = QUARTER.match(kwartaal)
    if not match:
        raise ValueError(f"ongeldig kwartaal {kwartaal!r}, verwacht YYYYQn")
    jaar, qn = int(match[1]), int(match[2])
    periode, periode_vorig = kerncijfer_periods(jaar, qn)
    publicatie_id, gepubliceerd_op = conn.execute(
        "select publicatie_id, strftime(gepubliceerd_op, '%d-%m-%Y %H:%M') from publicatie "
        "order by gepubliceerd_op desc limit 1"
    ).fetchone()
    profiel_jaar, profiel = _profiel(conn, region, jaar)
    activiteiten_jaar, activiteiten = _activiteiten(conn, region, jaar)
    return ReportData(
        region=region,
        kwartaal=kwartaal,
        jaar=jaar,
        kwartaalnummer=qn,
        periode=periode,
        periode_vorig=periode_vorig,
        k=k,
        base=base,
        publicatie_id=publicatie_id,
        gepubliceerd_op=gepubliceerd_op,
        kerncijfers=_kerncijfers(conn, region, periode, periode_vorig),
        delictsvormen=_delictsvormen(conn, region, jaar),
        trend=_trend(conn, region, kwartaal),
        dark_number=_dark_number(conn, region, jaar),
        veiligheidsmonitor=_veiligheidsmonitor(conn, region, jaar),
        voortgang=_voortgang(conn, jaar),
        kwaliteit=_kwaliteit(conn, jaar, qn),
        profiel=profiel,
        profiel_jaar=profiel_jaar,
        activiteiten=activiteiten,
        activiteiten_jaar=activiteiten_jaar,
        per_gemeente=[
            (code, name, {key: cel for (key, p), cel in _totalen(conn, "gemeente", code, [periode]).items()})
            for code, name in region.gemeenten
        ]
        if region.niveau == "basisteam" and len(region.gemeenten) > 1
        else [],
    )


def _totalen(
    conn: duckdb.DuckDBPyConnection, niveau: str, code: str, periods: Sequence[str]
) -> dict[tuple[str, str], Cel]:
    """The published region totals per kerncijfer and period; only an amount can be hidden."""
    rows = conn.execute(
        """
        select periode, bron, soort, aantal, schadebedrag_eur, onderdrukt from ind_totalen
        where regio_niveau = ? and regio_code = ? and periode in (select unnest(?))
        """,
        [niveau, code, list(periods)],
    ).fetchall()
    found = {(r[0], r[1], r[2]): {"aantal": r[3], "schadebedrag_eur": r[4], "onderdrukt": r[5]} for r in rows}
    result: dict[tuple[str, str], Cel] = {}
    for key, _, bron, soort, measure in KERNCIJFERS:
        for periode in periods:
            row = found.get((periode, bron, soort))
            value = row[measure] if row else None
            hidden = measure == AMOUNT and value is None and bool(row and row["onderdrukt"])
            result[(key, periode)] = Cel(value, hidden)
    return result


def _kerncijfers(conn: duckdb.DuckDBPyConnection, region: Region, periode: str, periode_vorig: str) -> list[Kerncijfer]:
    periods = [periode, periode_vorig]
    own = _totalen(conn, region.niveau, region.code, periods)
    dist = _totalen(conn, "district", region.district, periods)
    unit = _totalen(conn, "eenheid", region.eenheid, periods)
    return [
        Kerncijfer(
            key,
            label,
            own[(key, periode)],
            own[(key, periode_vorig)],
            dist[(key, periode)],
            dist[(key, periode_vorig)],
            unit[(key, periode)],
            unit[(key, periode_vorig)],
        )
        for key, label, *_ in KERNCIJFERS
    ]


def _delictsvormen(conn: duckdb.DuckDBPyConnection, region: Region, jaar: int) -> list[DelictsvormJaar]:
    rows = conn.execute(
        """
        select i.delictsvorm, d.label, i.aangiften, i.schadebedrag_eur, i.meldingen_bank,
               i.meldingen_fraudehelpdesk, i.onderdrukt
        from ind_delictsvormen_jaar as i
        join dim_delictsvorm as d using (delictsvorm)
        where i.jaar = ? and i.regio_niveau = ? and i.regio_code = ? and d.hoofdcategorie in (select unnest(?))
        order by i.rang nulls last, i.delictsvorm
        """,
        [jaar, region.niveau, region.code, list(ONLINE_HOOFDCATEGORIEEN)],
    ).fetchall()
    return [DelictsvormJaar(*r) for r in rows]


def _trend(conn: duckdb.DuckDBPyConnection, region: Region, kwartaal: str) -> Trend:
    """Police aangiften and meldingen per quarter: the region's published quarter totals."""
    rows = conn.execute(
        """
        select periode, soort, aantal from ind_totalen
        where bron = 'politie' and regio_niveau = ? and regio_code = ? and periode like '____Q_' and periode <= ?
        """,
        [region.niveau, region.code, kwartaal],
    ).fetchall()
    kwartalen = [
        r[0]
        for r in conn.execute(
            "select distinct kwartaal from fct_meldingen_kwartaal where kwartaal <= ? order by 1", [kwartaal]
        ).fetchall()
    ]
    counts = {(r[0], r[1]): r[2] for r in rows}
    reeksen = {soort: [counts.get((q, soort)) for q in kwartalen] for soort in ("aangifte", "melding")}
    breuk = conn.execute(
        "select jaar, any_value(toelichting) from ind_trend_jaar where trendbreuk group by jaar order by jaar limit 1"
    ).fetchone()
    changes = conn.execute(
        """
        select jaar, reeks, methode, verandering_pct from ind_trend_jaar
        where regio_niveau = ? and regio_code = ? and reeks in ('cybercrime', 'gedigitaliseerd')
          and jaar <= ? and jaar >= ?
        order by jaar, reeks, methode
        """,
        [region.niveau, region.code, int(kwartaal[:4]), (breuk[0] if breuk else int(kwartaal[:4]))],
    ).fetchall()
    return Trend(kwartalen, reeksen, breuk[0] if breuk else None, breuk[1] if breuk else None, changes)


def _dark_number(conn: duckdb.DuckDBPyConnection, region: Region, jaar: int) -> DarkNumber | None:
    row = conn.execute(
        """
        select jaar, aangiften, aangiftebereidheid_pct, vm_jaar, bron_aangiftebereidheid,
               geschat_slachtoffers, ondergrens, bovengrens
        from ind_dark_number
        where regio_niveau = ? and regio_code = ? and delictgroep = 'totaal' and jaar <= ?
        order by jaar desc limit 1
        """,
        [region.niveau, region.code, jaar],
    ).fetchone()
    return DarkNumber(*row) if row else None


def _veiligheidsmonitor(conn: duckdb.DuckDBPyConnection, region: Region, jaar: int) -> list[VmWaarde]:
    """The latest VM year up to `jaar`, for the region's municipalities and the police unit."""
    rows = conn.execute(
        """
        with laatste as (select max(jaar) as jaar from ind_veiligheidsmonitor where jaar <= ?)
        select regio_naam, regio_code, v.jaar, onderwerp, waarde, ondergrens, bovengrens, betrouwbaar,
               doelwaarde, doeljaar
        from ind_veiligheidsmonitor as v, laatste
        where v.jaar = laatste.jaar and onderwerp in (select unnest(?))
          and (regio_code in (select unnest(?)) or regio_code = ?)
        order by regio_code = ? desc, regio_naam, onderwerp
        """,
        [jaar, list(VM_ONDERWERPEN), region.gemeentecodes, VM_EENHEID, VM_EENHEID],
    ).fetchall()
    return [VmWaarde(*r) for r in rows]


def _voortgang(conn: duckdb.DuckDBPyConnection, jaar: int) -> list[Voortgang]:
    """Per indicator the row for `jaar`, or else the latest period before it, or its target year."""
    rows = conn.execute(
        """
        select doel, indicator, omschrijving, niveau, periode, realisatie, doelwaarde, doeljaar,
               verwacht_op_peildatum, status
        from ind_programma_voortgang
        qualify row_number() over (
            partition by indicator order by (periode <= ?) desc, abs(periode - ?), periode desc
        ) = 1
        order by doel nulls last, indicator
        """,
        [jaar, jaar],
    ).fetchall()
    return [Voortgang(*r) for r in rows]


def _profiel(conn: duckdb.DuckDBPyConnection, region: Region, jaar: int) -> tuple[int | None, list[Profiel]]:
    """The region's victims per age band and channel in `jaar`, or the latest year before it."""
    rows = conn.execute(
        """
        with t as (select * from ind_slachtofferprofiel_jaar where regio_niveau = ? and regio_code = ?),
             j as (select max(jaar) as jaar from t where jaar <= ?)
        select t.jaar, bron, dimensie, waarde, aantal
        from t join j using (jaar)
        order by dimensie, waarde, bron
        """,
        [region.niveau, region.code, jaar],
    ).fetchall()
    return (rows[0][0] if rows else None), [Profiel(*r[1:]) for r in rows]


def _activiteiten(conn: duckdb.DuckDBPyConnection, region: Region, jaar: int) -> tuple[int | None, list[Activiteit]]:
    """The programme's activities in the region, (for a municipality) its basisteam, and the unit."""
    rows = conn.execute(
        """
        with j as (select max(jaar) as jaar from ind_programma_activiteiten where jaar <= ?)
        select a.jaar, a.activiteit,
               sum(a.aantal) filter (where a.regio_niveau = ? and a.regio_code = ?),
               sum(a.aantal) filter (where a.regio_niveau = 'basisteam' and a.regio_code = ?),
               sum(a.aantal) filter (where a.regio_niveau = 'eenheid')
        from ind_programma_activiteiten as a join j using (jaar)
        group by all
        order by a.activiteit
        """,
        [jaar, region.niveau, region.code, region.basisteam],
    ).fetchall()
    own_team = region.niveau == "basisteam"
    return (rows[0][0] if rows else None), [
        Activiteit(r[1], int(r[2] or 0), None if own_team else int(r[3] or 0), int(r[4] or 0)) for r in rows
    ]


def _kwaliteit(conn: duckdb.DuckDBPyConnection, jaar: int, qn: int) -> list[Kwaliteit]:
    rows = conn.execute(
        """
        select bron, leveringen, leveringen_afgekeurd, pct_rijen_afgekeurd, pct_ongelabeld,
               pct_hoofdcategorie_afwijkend
        from ind_kwaliteit where jaar = ? order by bron
        """,
        [jaar],
    ).fetchall()
    missing = _missing_periods(conn, jaar, qn)
    return [Kwaliteit(*r, ontbrekend=missing.get(r[0], [])) for r in rows]


def _missing_periods(conn: duckdb.DuckDBPyConnection, jaar: int, qn: int) -> dict[str, list[str]]:
    """Per bron, the periods of this year (up to the quarter) without a delivery in the latest publication."""
    row = conn.execute("select leveringen from publicatie order by gepubliceerd_op desc limit 1").fetchone()
    deliveries = row[0] if row and row[0] else []  # a list of structs (contract 2.0)
    delivered: dict[str, set[str]] = {}
    for d in deliveries:
        if isinstance(d, dict):  # contract 1.x listed bare ids: those say nothing about periods
            delivered.setdefault(str(d.get("feed")), set()).add(str(d.get("periode")))
    quarters = [f"{jaar}Q{q}" for q in range(1, qn + 1)]
    months = [f"{jaar}-{m:02d}" for m in range(1, 3 * qn + 1)]
    expected = {
        "politie_registraties": quarters,
        "programma_registraties": quarters,
        "bank_fraudemeldingen": months,
        "fraudehelpdesk_meldingen": months,
    }
    bron = {"politie_registraties": "politie", "programma_registraties": "programma"}
    bron |= {"bank_fraudemeldingen": "bank", "fraudehelpdesk_meldingen": "fraudehelpdesk"}
    # keyed by bron, as ind_kwaliteit is
    return {
        bron[feed]: [p for p in periods if p not in delivered.get(feed, set())] for feed, periods in expected.items()
    }
