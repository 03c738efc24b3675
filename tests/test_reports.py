"""The informatiebeeld on the demo data: coverage, figures, rounded counts, hidden amounts, isolation.

Figures are checked against the published tables with the test's own SQL: every count is shown as
published (below eenheid a multiple of the rounding base), only an amount reads "afgeschermd",
and the warehouse marts, which hold the true values, show that the reports do not.
"""

from __future__ import annotations

import dataclasses
import re
from html import escape, unescape
from html.parser import HTMLParser
from pathlib import Path

import duckdb
import pytest

from dvcc_pipeline.config import get_settings
from dvcc_pipeline.publication.contract import load_published_contract
from dvcc_pipeline.reporting import write_reports
from dvcc_pipeline.reporting.render import ROUNDED_TO, SUPPRESSED, rounding_note

POLICY = load_published_contract().policy
K, BASE = POLICY.min_cell_size, POLICY.rounding_base
# every count a report shows for its own gemeente or basisteam (a level below eenheid)
COUNT_KEY = re.compile(
    r"^(kerncijfers/(aangiften|bank|fraudehelpdesk)/\d{4}(Q\d)?|gemeente/GM\d{4}/[a-z]+/\d{4}(Q\d)?"
    r"|delictsvormen/[^/]+/(aangiften|bank|fraudehelpdesk)|wie/.+|dark_number/aangiften)$"
)
SECTIONS = ("kerncijfers", "delictsvormen", "trend", "dark-number", "wie", "voortgang", "kwaliteit")


class Cells(HTMLParser):
    """Collects data-key → (data-value, visible text) of every figure cell."""

    def __init__(self) -> None:
        super().__init__()
        self.cells: dict[str, tuple[str, str]] = {}
        self._open: list[tuple[str, str, list[str]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if "data-key" in a:
            self._open.append((a["data-key"] or "", a.get("data-value") or "", []))

    def handle_data(self, data: str) -> None:
        for _, _, texts in self._open:
            texts.append(data)

    def handle_endtag(self, tag: str) -> None:
        if self._open and tag in {"td", "strong", "span"}:
            key, value, texts = self._open.pop()
            self.cells[key] = (value, "".join(texts).strip())


def cells(html: str) -> dict[str, tuple[str, str]]:
    parser = Cells()
    parser.feed(html)
    return parser.cells


def text_of(html: str) -> str:
    return unescape(re.sub(r"<[^>]+>", " ", html))


@pytest.fixture(scope="module")
def home(demo_home: Path) -> Path:
    settings = dataclasses.replace(get_settings(), home=demo_home)
    assert write_reports(settings)
    return demo_home


@pytest.fixture(scope="module")
def pub(home: Path):
    with duckdb.connect(str(home / "published" / "published.duckdb"), read_only=True) as conn:
        yield conn


@pytest.fixture(scope="module")
def quarter(pub) -> str:
    return pub.execute("select max(kwartaal) from fct_meldingen_kwartaal").fetchone()[0]


@pytest.fixture(scope="module")
def gemeenten(pub) -> list[tuple[str, str, str, str]]:
    return pub.execute("select gemeentecode, gemeente, basisteam, district from dim_gemeente order by 1").fetchall()


def _report(home: Path, quarter: str, niveau: str, code: str) -> str:
    slug = code if niveau == "gemeente" else re.sub(r"[^a-z0-9]+", "-", code.lower()).strip("-")
    return (home / "reports" / quarter / f"{niveau}-{slug}.html").read_text(encoding="utf-8")


def test_every_basisteam_and_municipality_has_a_report_in_the_index(home, quarter, gemeenten) -> None:
    index = (home / "reports" / "index.html").read_text(encoding="utf-8")
    teams = sorted({g[2] for g in gemeenten})
    for niveau, code in [*(("basisteam", t) for t in teams), *(("gemeente", g[0]) for g in gemeenten)]:
        html = _report(home, quarter, niveau, code)
        for section in SECTIONS:
            assert re.search(rf'<section id="{section}"[^>]*><h2>[^<]+</h2><p class="intro">[^<]{{20,}}', html), (
                code,
                section,
            )
        slug = code if niveau == "gemeente" else re.sub(r"[^a-z0-9]+", "-", code.lower()).strip("-")
        assert f'href="{quarter}/{niveau}-{slug}.html"' in index


def test_reports_are_self_contained_and_printable(home, quarter) -> None:
    for path in (home / "reports" / quarter).glob("*.html"):
        html = path.read_text(encoding="utf-8")
        assert "<script" not in html and "<link" not in html and "@import" not in html and "url(" not in html
        assert re.findall(r"https?://[^\"' ]+", html) in ([], ["http://www.w3.org/2000/svg"] * html.count("<svg"))
        assert "@page{size:A4" in html.replace(" ", "")


def _total(pub, niveau: str, code: str, periode: str, bron: str, soort: str, measure: str = "aantal") -> str:
    """The published region total as the report's data-value: its value, or "" when hidden."""
    row = pub.execute(
        f"""
        select {measure} from ind_totalen
        where regio_niveau = ? and regio_code = ? and periode = ? and bron = ? and soort = ?
        """,
        [niveau, code, periode, bron, soort],
    ).fetchone()
    assert row is not None, (niveau, code, periode, bron, soort)
    return "" if row[0] is None else str(row[0])


def _period(quarter: str) -> tuple[str, str]:
    year, qn = int(quarter[:4]), int(quarter[-1])
    return (str(year), str(year - 1)) if qn == 4 else (quarter, f"{year - 1}Q{qn}")


def _assert_total(found: dict[str, tuple[str, str]], key: str, expected: str) -> None:
    value, text = found[key]
    assert value == expected, (key, value, expected)
    if expected == "":  # only an amount can be hidden
        assert "/schade" in key and text == SUPPRESSED, (key, text)


def test_figures_equal_the_published_tables(home, pub, quarter, gemeenten) -> None:
    year = int(quarter[:4])
    periode, _ = _period(quarter)
    teams: dict[str, list[str]] = {}
    for code, _, team, _ in gemeenten:
        teams.setdefault(team, []).append(code)
    regions = [("basisteam", t, codes) for t, codes in teams.items()] + [("gemeente", g[0], [g[0]]) for g in gemeenten]
    checked = 0
    for niveau, code, codes in regions:
        found = cells(_report(home, quarter, niveau, code))
        _assert_total(
            found, f"kerncijfers/aangiften/{periode}", _total(pub, niveau, code, periode, "politie", "aangifte")
        )
        _assert_total(found, f"kerncijfers/bank/{periode}", _total(pub, niveau, code, periode, "bank", "melding"))
        published = pub.execute(
            """
            select delictsvorm, aangiften, meldingen_fraudehelpdesk from ind_delictsvormen_jaar
            where jaar = ? and regio_niveau = ? and regio_code = ?
            """,
            [year, niveau, code],
        ).fetchall()
        for vorm, aangiften, fhd in published:
            for key, expected in (
                (f"delictsvormen/{vorm}/aangiften", aangiften),
                (f"delictsvormen/{vorm}/fraudehelpdesk", fhd),
            ):
                if key in found:
                    assert expected is not None and found[key][0] == str(expected), (code, key, expected)
                    checked += 1
        profiel = pub.execute(
            """
            select dimensie, waarde, bron, aantal from ind_slachtofferprofiel_jaar
            where regio_niveau = ? and regio_code = ?
              and jaar = (select max(jaar) from ind_slachtofferprofiel_jaar where jaar <= ?)
            """,
            [niveau, code, year],
        ).fetchall()
        assert profiel, code
        for dimensie, waarde, bron, aantal in profiel:
            # every published cell of the region's profile is in the report, with its value
            assert found[f"wie/{dimensie}/{waarde}/{bron}"][0] == ("" if aantal is None else str(aantal)), code
            checked += 1
        checked += _check_activities(pub, found, niveau, code, year)
        dark = pub.execute(
            """
            select geschat_slachtoffers from ind_dark_number
            where jaar = ? and regio_niveau = ? and regio_code = ? and delictgroep = 'totaal'
            """,
            [year, niveau, code],
        ).fetchone()
        if dark and dark[0] is not None:
            assert found["dark_number/geschat"][0] == str(dark[0])
        vm = pub.execute(
            """
            select regio_code, onderwerp, waarde from ind_veiligheidsmonitor
            where jaar = (select max(jaar) from ind_veiligheidsmonitor where jaar <= ?)
              and (regio_code in (select unnest(?)) or regio_code = 'RE03')
              and onderwerp in ('aangifte_online', 'slachtoffer_online_totaal')
            """,
            [year, codes],
        ).fetchall()
        for vm_code, onderwerp, waarde in vm:
            assert found[f"vm/{vm_code}/{onderwerp}"][0] == ("" if waarde is None else str(waarde))
    assert checked > 500


def _check_activities(pub, found: dict[str, tuple[str, str]], niveau: str, code: str, year: int) -> int:
    """The programme's activity counts of the region, its basisteam and the unit, as published."""
    basisteam = (
        code
        if niveau == "basisteam"
        else pub.execute("select basisteam from dim_gemeente where gemeentecode = ?", [code]).fetchone()[0]
    )
    areas = [(niveau, code), ("eenheid", None)] + ([("basisteam", basisteam)] if niveau == "gemeente" else [])
    checked = 0
    for area_level, area_code in areas:
        rows = pub.execute(
            """
            select activiteit, aantal from ind_programma_activiteiten
            where regio_niveau = ? and (? is null or regio_code = ?)
              and jaar = (select max(jaar) from ind_programma_activiteiten where jaar <= ?)
            """,
            [area_level, area_code, area_code, year],
        ).fetchall()
        assert rows, (code, area_level)
        for activiteit, aantal in rows:
            assert found[f"voortgang/activiteit/{activiteit}/{area_level}"][0] == str(aantal), (code, activiteit)
            checked += 1
    return checked


def test_every_count_is_shown_rounded_and_only_amounts_read_afgeschermd(home, pub, quarter) -> None:
    """Below eenheid a report shows every count as a multiple of the base; "afgeschermd" stands only by amounts."""
    year = int(quarter[:4])
    with duckdb.connect(str(home / "warehouse" / "dvcc.duckdb"), read_only=True) as warehouse:
        true_values = {
            (r[0], r[1], r[2]): r[3]
            for r in warehouse.execute(
                "select regio_niveau, regio_code, delictsvorm, aangiften from marts.ind_delictsvormen_jaar "
                "where jaar = ? and regio_niveau in ('gemeente', 'basisteam')",
                [year],
            ).fetchall()
        }
    counts = hidden_amounts = small_rounded = 0
    for path in (home / "reports" / quarter).glob("*-*.html"):
        page = path.read_text(encoding="utf-8")
        assert "minder dan" not in _outside_amounts(page), path.name  # no count is called small
        niveau, code = _region_of(path, pub)
        for key, (value, text) in cells(page).items():
            if text == SUPPRESSED:
                assert "/schade" in key and value == "", (path.name, key)
                hidden_amounts += 1
            if not COUNT_KEY.match(key):
                continue
            # every count is published and shown, a multiple of the base below eenheid
            assert value != "" and text != SUPPRESSED, (path.name, key)
            assert int(value) % BASE == 0, (path.name, key, value)
            counts += 1
            vorm = key.split("/")[1]
            if key.startswith("delictsvormen/") and 0 < true_values.get((niveau, code, vorm), 0) < K:
                small_rounded += 1  # a true count 1 … k−1, shown only as its rounded figure
        # the word stands nowhere else than by a hidden amount and in the one explanation of it
        assert SUPPRESSED not in _outside_amounts(page), path.name
    assert counts > 1000 and hidden_amounts > 0
    assert small_rounded > 0, "the demo should have small true counts among the shown delictsvormen"


def test_every_report_says_once_that_counts_are_rounded_and_totals_separately(home, quarter) -> None:
    note = escape(rounding_note(BASE, K), quote=False)
    for path in (home / "reports" / quarter).glob("*-*.html"):
        html = path.read_text(encoding="utf-8")
        assert html.count(note) == 1, path.name
        text = text_of(html)
        assert text.count(f"afgerond op {ROUNDED_TO[BASE]}") == 1, path.name
        assert text.count("Elk totaal is apart afgerond") == 1, path.name


def _region_of(path: Path, pub) -> tuple[str, str]:
    """(regio_niveau, regio_code) of a report file."""
    niveau, slug = path.stem.split("-", 1)
    if niveau == "gemeente":
        return niveau, slug
    teams = [r[0] for r in pub.execute("select distinct basisteam from dim_gemeente").fetchall()]
    return niveau, next(t for t in teams if re.sub(r"[^a-z0-9]+", "-", t.lower()).strip("-") == slug)


def _outside_amounts(html: str) -> str:
    """The page's text without its style, its amount cells and the explanation of a hidden amount."""
    html = re.sub(r"<style>.*?</style>", " ", html, flags=re.S)
    html = re.sub(r'<td[^>]*data-key="[^"]*/schade[^"]*"[^>]*>.*?</td>', " ", html, flags=re.S)
    html = re.sub(r'<p[^>]*id="afgeschermd"[^>]*>.*?</p>', " ", html, flags=re.S)
    return text_of(html)


def test_a_municipality_report_names_no_other_municipality(home, quarter, gemeenten) -> None:
    for code, name, team, district in gemeenten:
        text = text_of(_report(home, quarter, "gemeente", code))
        for own in sorted({team, district, "Midden-Nederland"}, key=len, reverse=True):
            text = text.replace(own, " ")
        for other_code, other_name, *_ in gemeenten:
            if other_code == code:
                continue
            assert other_code not in text, (code, other_code)
            if other_name != name:
                assert not re.search(rf"(?<![\w-]){re.escape(other_name)}(?![\w-])", text), (code, other_name)


def test_one_quarter_for_one_municipality(home, pub, gemeenten) -> None:
    code = gemeenten[0][0]
    settings = dataclasses.replace(get_settings(), home=home)
    written = write_reports(settings, quarter="2024q2", gemeente=code.lower())
    assert [p.name for p in written] == [f"gemeente-{code}.html"]
    found = cells(written[0].read_text(encoding="utf-8"))
    # not a year-to-date sum of cells: the published quarter, against the same quarter a year before
    for periode in ("2024Q2", "2023Q2"):
        expected = _total(pub, "gemeente", code, periode, "politie", "aangifte")
        _assert_total(found, f"kerncijfers/aangiften/{periode}", expected)
    with pytest.raises(ValueError, match="niet gepubliceerd"):
        write_reports(settings, quarter="2031Q1")
    with pytest.raises(ValueError, match="onbekend"):
        write_reports(settings, basisteam="Atlantis")


# --- the smallest municipality: totals, one label, one format -------------------------------------


@pytest.fixture(scope="module")
def smallest(home: Path) -> str:
    """The municipality with the fewest victims over all sources and years, by the warehouse's true counts."""
    with duckdb.connect(str(home / "warehouse" / "dvcc.duckdb"), read_only=True) as warehouse:
        return warehouse.execute(
            """
            select regio_code from marts.ind_totalen
            where regio_niveau = 'gemeente' and periode not like '%Q%'
            group by regio_code order by sum(aantal), regio_code limit 1
            """
        ).fetchone()[0]


KERN = {
    "aangiften": ("politie", "aangifte", "aantal"),
    "bank": ("bank", "melding", "aantal"),
    "fraudehelpdesk": ("fraudehelpdesk", "melding", "aantal"),
    "schade_aangiften": ("politie", "aangifte", "schadebedrag_eur"),
    "schade_bank": ("bank", "melding", "schadebedrag_eur"),
}
DUTCH_NUMBER = re.compile(r"^(€ )?[+-]?\d{1,3}(\.\d{3})*(,\d)?%?$")


def test_smallest_municipality_shows_every_count(home, pub, quarter, smallest) -> None:
    html = _report(home, quarter, "gemeente", smallest)
    found = cells(html)
    periode, vorig = _period(quarter)
    for key, (bron, soort, measure) in KERN.items():
        for p in (periode, vorig):
            expected = _total(pub, "gemeente", smallest, p, bron, soort, measure)
            _assert_total(found, f"kerncijfers/{key}/{p}", expected)
            assert measure == "schadebedrag_eur" or expected != "", (key, p)  # every headline count is shown

    # its delictsvormen tables: every count shown as published; the five with the most aangiften, and
    # every other delictsvorm with as many aangiften as the fifth named below the table
    published = {
        r[0]: r[1:]
        for r in pub.execute(
            """
            select delictsvorm, label, aangiften, meldingen_bank, meldingen_fraudehelpdesk
            from ind_delictsvormen_jaar join dim_delictsvorm using (delictsvorm)
            where jaar = ? and regio_niveau = 'gemeente' and regio_code = ?
              and hoofdcategorie in ('cybercrime', 'gedigitaliseerd')
            """,
            [int(quarter[:4]), smallest],
        ).fetchall()
    }
    shown = {k.split("/")[1] for k in found if re.fullmatch(r"delictsvormen/[^/]+/aangiften", k)} - {"gelijk"}
    nonzero = sorted((v[1] for v in published.values() if v[1]), reverse=True)
    assert shown and len(shown) == min(5, len(nonzero)), shown
    fifth = min(published[vorm][1] for vorm in shown)
    assert {vorm for vorm, v in published.items() if v[1] > fifth} <= shown
    section = re.search(r'<section id="delictsvormen".*?</section>', html, flags=re.S)[0]
    for vorm, (label, *_counts) in published.items():
        if published[vorm][1] == fifth and vorm not in shown:
            assert escape(label) in section.split("</table>")[1], label  # named after the first table
    for vorm in shown:
        for column, value in zip(("aangiften", "bank", "fraudehelpdesk"), published[vorm][1:], strict=True):
            assert found[f"delictsvormen/{vorm}/{column}"][0] == str(value), (vorm, column)
            assert DUTCH_NUMBER.match(found[f"delictsvormen/{vorm}/{column}"][1]), (vorm, column)
    assert SUPPRESSED not in _outside_amounts(section)

    # the trend chart: one unbroken line per series over every published quarter
    quarters = pub.execute(
        "select count(distinct kwartaal) from fct_meldingen_kwartaal where kwartaal <= ?", [quarter]
    ).fetchone()[0]
    trend = re.search(r'<section id="trend".*?</section>', html, flags=re.S)[0]
    lines = re.findall(r'<polyline[^>]*points="([^"]+)"', trend)
    assert len(lines) == 2 and all(len(points.split()) == quarters for points in lines), lines
    assert "onderbroken lijn" not in trend

    # the dark-number box states the published online aangiften of its year
    dark = pub.execute(
        """
        select aangiften, geschat_slachtoffers from ind_dark_number
        where regio_niveau = 'gemeente' and regio_code = ? and delictgroep = 'totaal' and jaar <= ?
        order by jaar desc limit 1
        """,
        [smallest, int(quarter[:4])],
    ).fetchone()
    if dark and dark[1] is not None:
        assert found["dark_number/aangiften"][0] == str(dark[0])
    # the basisteam's report states the same total for this municipality
    team = pub.execute("select basisteam from dim_gemeente where gemeentecode = ?", [smallest]).fetchone()[0]
    team_cells = cells(_report(home, quarter, "basisteam", team))
    assert team_cells[f"gemeente/{smallest}/aangiften/{periode}"] == found[f"kerncijfers/aangiften/{periode}"]


def test_every_report_uses_one_label_one_format_and_no_nested_brackets(home, quarter, smallest) -> None:
    hidden_labels: set[str] = set()
    for path in (home / "reports" / quarter).glob("*-*.html"):
        html = path.read_text(encoding="utf-8")
        text = text_of(html)
        assert "onderdrukt" not in text and "Niet gepubliceerd" not in text, path.name
        hidden_labels |= set(re.findall(r'class="[^"]*afgeschermd[^"]*"[^>]*>([^<]*)<', html))
        for key, (value, shown) in cells(html).items():
            if value:
                assert DUTCH_NUMBER.match(shown), (path.name, key, shown)
        for paragraph in re.findall(r"<(?:p|td|th|li)[^>]*>(.*?)</(?:p|td|th|li)>", html, flags=re.S):
            depth = 0
            for char in text_of(paragraph):
                depth += char == "("
                assert depth < 2, (path.name, paragraph[:200])
                depth -= char == ")"
        # every chart says its source and period
        assert html.count("<svg") == len(re.findall(r"<figcaption[^>]*>Bron: [^<]+Periode: [^<]+</figcaption>", html))
    # every hidden value reads the same, one label
    assert hidden_labels == {SUPPRESSED}
    small = _report(home, quarter, "gemeente", smallest)
    assert "te weinig cijfers boven 0" in small or small.count("<svg") >= 4


def test_quality_does_not_count_a_rejection_a_later_version_fixed(home, pub) -> None:
    """A rejected file that a later `_v2` of the same period put right no longer counts against its source."""
    with duckdb.connect(str(home / "warehouse" / "dvcc.duckdb"), read_only=True) as warehouse:
        rows = warehouse.execute(
            """
            select b.bron, cast(left(d.periode, 4) as integer) as jaar,
                   count(*) filter (where not exists (
                       select 1 from raw.deliveries as later
                       where later.feed = d.feed and later.periode = d.periode
                         and later.leverancier is not distinct from d.leverancier and later.versie > d.versie
                         and later.status in ('geaccepteerd', 'geaccepteerd_met_afkeur', 'vervangen'))) as open,
                   count(*) as all_rejected
            from raw.deliveries as d join reference.bronnen as b using (feed)
            where d.status = 'afgekeurd' and d.periode is not null
            group by all
            """
        ).fetchall()
    assert any(open_ < all_ for _, _, open_, all_ in rows), "the demo should have a rejection that a _v2 fixed"
    for bron, jaar, open_, _ in rows:
        published = pub.execute(
            "select leveringen_afgekeurd from ind_kwaliteit where bron = ? and jaar = ?", [bron, jaar]
        ).fetchone()
        assert published is not None and published[0] == open_, (bron, jaar, published, open_)
