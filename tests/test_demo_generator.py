"""The demo generator: determinism, exact partner formats, and the figures of figures.md.

The figures are counted straight from the generated files with DuckDB, applying the
taxonomy rule of taxonomy.md with the reference seeds, excluding invalid rows by the
partner_feeds.md rules and taking the latest version of each period.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import re
from pathlib import Path

import duckdb
import pytest
from openpyxl import load_workbook

from dvcc_pipeline import config
from dvcc_pipeline.demo import GenerationSummary, generate

# Headers exactly as partner_feeds.md lists them.
POLICE_HEADER = [
    "registratie_id",
    "registratiedatum",
    "pleegdatum",
    "soort_registratie",
    "maatschappelijke_klasse",
    "classificatie",
    "online_kenmerk",
    "modus_operandi",
    "gemeentecode",
    "slachtoffer_type",
    "leeftijdsklasse",
    "schadebedrag_eur",
    "verdachte_bekend",
    "doorgestuurd_om",
]
BANK_HEADER = [
    "melding_id",
    "bank",
    "meldingsdatum",
    "fraudetype",
    "kanaal",
    "gemeentecode",
    "klanttype",
    "leeftijdsklasse",
    "schadebedrag",
    "vergoed_bedrag",
    "aangifte_gedaan",
]
FHD_HEADER = [
    "Meldingnummer",
    "Datum melding",
    "Soort melding",
    "Categorie",
    "Gemeente",
    "Leeftijd",
    "Contactkanaal",
    "Schade",
    "Schadebedrag",
]
VM_HEADER = ["ID", "RegioS", "Perioden", "Marges", "Onderwerp", "Waarde"]
PROGRAMME_HEADER = ["registratie_id", "datum", "actie", "activiteit", "niveau", "gebied", "aantal", "omschrijving"]
NAME = re.compile(r"^(?P<stem>.+?)(?:_v(?P<v>\d+))?\.(csv|xlsx)$")


@pytest.fixture(scope="session")
def demo(tmp_path_factory: pytest.TempPathFactory) -> GenerationSummary:
    return generate(tmp_path_factory.mktemp("demo_home"), scale=1.0, seed=2025)


def _files(summary: GenerationSummary, feed: str) -> list[Path]:
    return [f.path for f in summary.files_per_feed()[feed]]


def _latest(paths: list[Path]) -> list[Path]:
    """Per period the highest _v<k>: a correction replaces the earlier delivery."""
    best: dict[str, tuple[int, Path]] = {}
    for path in paths:
        m = NAME.match(path.name)
        assert m, path.name
        version = int(m["v"] or 1)
        if m["stem"] not in best or version > best[m["stem"]][0]:
            best[m["stem"]] = (version, path)
    return sorted(p for _, p in best.values())


def _seed(name: str) -> str:
    return str(config.SEEDS_DIR / name)


def _read_dicts(path: str | Path) -> list[dict[str, str]]:
    with open(path, encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# --- determinism -------------------------------------------------------------------------


def test_same_seed_and_scale_give_identical_bytes(tmp_path: Path) -> None:
    first = generate(tmp_path / "a", scale=0.05, seed=7)
    second = generate(tmp_path / "b", scale=0.05, seed=7)
    hashes_a = {f.path.relative_to(tmp_path / "a"): _sha(f.path) for f in first.files}
    hashes_b = {f.path.relative_to(tmp_path / "b"): _sha(f.path) for f in second.files}
    assert hashes_a == hashes_b
    assert any(p.suffix == ".xlsx" for p in hashes_a)
    other = generate(tmp_path / "c", scale=0.05, seed=8)
    changed = [f for f in other.files if _sha(f.path) != hashes_a[f.path.relative_to(tmp_path / "c")]]
    assert len(changed) > len(other.files) // 2  # the seed matters


def test_summary_lists_files_waves_and_scenarios(demo: GenerationSummary) -> None:
    on_disk = {p for p in demo.home.rglob("*") if p.is_file()}
    # besides the deliveries only the demo's own clock for the freshness check
    assert on_disk == {f.path for f in demo.files} | {demo.home / "peildatum.txt"}
    for f in demo.files:
        expected_root = demo.home / ("landing" if f.wave == 1 else "demo/tweede_levering")
        assert f.path.parent == expected_root / f.feed_id
    names = {f.path.name: f.wave for f in demo.files}
    statuses = {"geaccepteerd", "geaccepteerd_met_afkeur", "afgekeurd", "duplicaat", "vervangen"}
    for scenario in demo.scenarios:
        assert names[scenario.file_name] == scenario.wave
        assert scenario.expected_status in statuses and scenario.uitleg
    assert {s.expected_status for s in demo.scenarios} == statuses
    assert set(demo.rows_per_feed()) == set(config.FEEDS)
    assert all(rows > 0 for rows in demo.rows_per_feed().values())


# --- formats -----------------------------------------------------------------------------


def test_police_files_follow_the_format(demo: GenerationSummary) -> None:
    ids_per_period: dict[str, set[str]] = {}
    for path in _files(demo, "politie_registraties"):
        raw = path.read_bytes()
        assert not raw.startswith(b"\xef\xbb\xbf") and b"\r\n" not in raw
        rows = list(csv.reader(io.StringIO(raw.decode("utf-8"))))
        header, body = rows[0], rows[1:]
        if path.name == "politie_registraties_2025Q1.csv":  # designed: extra column bsn
            assert header == [*POLICE_HEADER, "bsn"]
            assert all(_passes_11_test(r[-1]) for r in body)
            continue
        assert header == POLICE_HEADER and body
        ids = [r[0] for r in body]
        assert len(ids) == len(set(ids))
        assert all(re.fullmatch(r"P[0-9A-F]{16}", i) for i in ids)
        assert all(re.fullmatch(r"\d{4}-\d{2}-\d{2}", r[1]) for r in body)
        assert all(re.fullmatch(r"(\d+\.\d{2})?", r[11]) for r in body if not r[11].startswith("-"))
        ids_per_period[path.name] = set(ids)
    v1 = ids_per_period["politie_registraties_2024Q2.csv"]
    v2 = ids_per_period["politie_registraties_2024Q2_v2.csv"]
    assert v1 < v2 and 0.01 < 1 - len(v1) / len(v2) < 0.06  # same ids, ~3% missing in v1


def _passes_11_test(value: str) -> bool:
    digits = [int(c) for c in value]
    if len(digits) != 9:
        return False
    weighted = sum(d * w for d, w in zip(digits[:8], range(9, 1, -1), strict=True))
    return (weighted - digits[8]) % 11 == 0


def test_bank_files_follow_the_format(demo: GenerationSummary) -> None:
    ids: dict[str, set[str]] = {}
    for item in demo.files_per_feed()["bank_fraudemeldingen"]:
        raw = item.path.read_bytes()
        assert raw.startswith(b"\xef\xbb\xbf")
        assert raw.count(b"\n") == raw.count(b"\r\n") == item.rows + 1
        text = raw[3:].decode("utf-8")
        bank_code = item.path.name.split("_")[1]
        if item.path.name == "bank_KNAB_2025-02.csv":  # designed: wrong delimiter
            assert text.startswith(",".join(BANK_HEADER))
            continue
        rows = list(csv.reader(io.StringIO(text), delimiter=";"))
        assert rows[0] == BANK_HEADER
        for r in rows[1:]:
            assert r[1] == bank_code
            assert re.fullmatch(r"\d{2}-\d{2}-\d{4}", r[2])
            assert re.fullmatch(r"-?\d+,\d{2}", r[8]) and re.fullmatch(r"(\d+,\d{2})?", r[9])
            assert re.fullmatch(r"[A-Z0-9-]{6,40}", r[0])
        if item.wave == 1:  # the wave-2 duplicate repeats its ids on purpose
            new = {r[0] for r in rows[1:]}
            assert not new & ids.setdefault(bank_code, set())
            ids[bank_code] |= new
    assert set(ids) == {"ABNA", "INGB", "RABO", "SNSB", "ASNB", "BUNQ", "KNAB", "TRIO"}
    sizes = sorted(len(v) for v in ids.values())
    assert sizes[-1] > 5 * sizes[0]  # banks of different sizes
    duplicate = [f.path for f in demo.files if f.path.name == "bank_ABNA_2024-11.csv"]
    assert len(duplicate) == 2 and _sha(duplicate[0]) == _sha(duplicate[1])


def test_fraudehelpdesk_workbooks_follow_the_format(demo: GenerationSummary) -> None:
    numbers: set[int] = set()
    names = {r["gemeente"] for r in _read_dicts(_seed("gemeenten_midden_nederland.csv"))}
    normalised = {" ".join(n.split()).lower() for n in names}
    odd = unmatched = 0
    for path in _files(demo, "fraudehelpdesk_meldingen"):
        wb = load_workbook(path, read_only=True)
        assert wb.sheetnames == ["Meldingen", "Toelichting"]
        rows = wb["Meldingen"].iter_rows()
        assert [c.value for c in next(rows)] == FHD_HEADER
        for row in rows:
            number, datum, gemeente = row[0].value, row[1], row[4].value
            assert isinstance(number, int) and number > 0 and number not in numbers
            numbers.add(number)
            assert datum.is_date and isinstance(datum.value, dt.datetime)
            odd += gemeente not in names
            unmatched += " ".join(gemeente.split()).lower() not in normalised
        wb.close()
    assert odd > 20 and unmatched == 1  # odd spellings are valid; one designed non-match


def test_veiligheidsmonitor_follows_the_cbs_format(demo: GenerationSummary) -> None:
    field = r'"[^"]*"'
    for path in _files(demo, "veiligheidsmonitor"):
        lines = path.read_text(encoding="utf-8").splitlines()
        assert all(re.fullmatch(rf"{field}(;{field}){{5}}", line) for line in lines)
        rows = list(csv.reader(lines, delimiter=";"))
        assert rows[0] == VM_HEADER
        year = re.search(r"(\d{4})", path.name)[1]
        margins: dict[tuple[str, str], list[tuple[str, str]]] = {}
        for r in rows[1:]:
            assert r[2] == f"{year}JJ00" and re.fullmatch(r"GM\d{4}|RE03|NL01", r[1])
            assert r[5] == "." or re.fullmatch(r"\d+(\.\d)?", r[5])
            margins.setdefault((r[1], r[4]), []).append((r[3], r[5]))
        for (_, subject), values in margins.items():
            kinds = sorted(m for m, _ in values)
            if subject == "respondenten" or kinds == ["MW00000"]:
                assert kinds == ["MW00000"]
                assert subject == "respondenten" or values[0][1] == "."
            else:
                assert kinds == ["MBG0095", "MOG0095", "MW00000"]
                assert all(v != "." for _, v in values)
        assert sum(1 for (_, s), v in margins.items() if v == [("MW00000", ".")]) >= 20


def test_programme_files_follow_the_format(demo: GenerationSummary) -> None:
    ref = list(_read_dicts(_seed("gemeenten_midden_nederland.csv")))
    valid = {
        "gemeente": {r["gemeentecode"] for r in ref},
        "basisteam": {r["basisteam"] for r in ref},
        "district": {r["district"] for r in ref},
        "regio": {"Midden-Nederland"},
    }
    for path in _files(demo, "programma_registraties"):
        rows = _read_dicts(path)
        assert rows and list(rows[0]) == PROGRAMME_HEADER
        for r in rows:
            assert r["gebied"] in valid[r["niveau"]]
            assert 1 <= int(r["actie"]) <= 11 and int(r["aantal"]) >= 1
    leaky = (demo.home / "landing/programma_registraties/programma_registraties_2025Q3.csv").read_text()
    clean = (demo.home / "demo/tweede_levering/programma_registraties/programma_registraties_2025Q3_v2.csv").read_text()
    pii = re.compile(r"\b06-?\d{8}\b|[\w.]+@[\w.]+\.nl")
    assert pii.search(leaky) and not pii.search(clean)


# --- figures.md ---------------------------------------------------------------------------


@pytest.fixture(scope="session")
def police(demo: GenerationSummary) -> duckdb.DuckDBPyConnection:
    """Accepted police rows (latest versions, invalid rows excluded) with their delictsvorm."""
    con = duckdb.connect()
    files = [str(p) for p in _latest(_files(demo, "politie_registraties"))]
    con.execute(
        "create table raw as select * from read_csv(?, all_varchar = true, header = true, filename = true)", [files]
    )
    con.execute("create table klassen as select * from read_csv(?)", [_seed("police_klassen.csv")])
    con.execute("create table codes as select * from read_csv(?)", [_seed("source_codes.csv")])
    con.execute("create table gemeenten as select * from read_csv(?)", [_seed("gemeenten_midden_nederland.csv")])
    con.execute("""
        create table valid as
        with typed as (
            select r.*,
                   try_cast(registratiedatum as date) as reg,
                   try_cast(pleegdatum as date) as pleeg,
                   try_cast(schadebedrag_eur as decimal(12, 2)) as schade,
                   regexp_extract(filename, '(\\d{4})Q(\\d)', ['y', 'q']) as period
            from raw r
        )
        select * from typed
        where regexp_full_match(registratie_id, 'P[0-9A-F]{16}')
          and reg is not null
          and year(reg) = cast(period.y as int) and quarter(reg) = cast(period.q as int)
          and (pleegdatum is null or (pleeg is not null and pleeg <= reg))
          and soort_registratie in ('aangifte', 'melding')
          and maatschappelijke_klasse in (select maatschappelijke_klasse from klassen)
          and classificatie = case when reg < date '2024-01-01' then 'MK2019' else 'MK2024' end
          and online_kenmerk in ('cybercrime', 'gedigitaliseerd', 'geen', 'onbekend')
          and modus_operandi in (select waarde from codes where bron = 'politie')
          and gemeentecode in (select gemeentecode from gemeenten)
          and slachtoffer_type in ('persoon', 'organisatie')
          and (leeftijdsklasse is null or leeftijdsklasse in ('0-17', '18-24', '25-44', '45-64', '65+'))
          and (schadebedrag_eur is null or (schade is not null and schade between 0 and 10000000))
          and verdachte_bekend in ('J', 'N') and doorgestuurd_om in ('J', 'N')
    """)
    con.execute("""
        create table police as
        select v.*, year(reg) as jaar, k.is_fraude,
               case
                   when online_kenmerk = 'onbekend' then 'ongelabeld'
                   when online_kenmerk = 'geen' then
                       case when k.is_fraude then 'offline_fraude' else 'offline_overig' end
                   else coalesce(c.delictsvorm, case online_kenmerk
                       when 'gedigitaliseerd' then k.default_gedigitaliseerd
                       else k.default_cybercrime end)
               end as delictsvorm
        from valid v
        join klassen k using (maatschappelijke_klasse)
        left join codes c on c.bron = 'politie' and c.veld = 'modus_operandi'
                         and c.waarde = v.modus_operandi
    """)
    return con


def test_designed_invalid_police_rows_are_few_and_excluded(police: duckdb.DuckDBPyConnection) -> None:
    per_file = police.execute("""
        select r.filename, count(*) as n, count(*) - count(v.registratie_id) as invalid
        from raw r left join valid v using (registratie_id) group by all having invalid > 0
    """).fetchall()
    assert len(per_file) == 1 and per_file[0][0].endswith("politie_registraties_2023Q2.csv")
    _, n, invalid = per_file[0]
    assert invalid == 6 and invalid / n < 0.01


def test_police_2024_aangiften_per_delictsvorm(police: duckdb.DuckDBPyConnection) -> None:
    rows = police.execute("""
        select delictsvorm, count(*), coalesce(sum(schade), 0)
        from police where jaar = 2024 and soort_registratie = 'aangifte'
        group by all
    """).fetchall()
    count = {d: n for d, n, _ in rows}
    damage = {d: float(s) for d, _, s in rows}
    assert 5500 <= count["aan_en_verkoopfraude"] <= 5599
    assert 1_300_000 <= damage["aan_en_verkoopfraude"] < 1_400_000
    assert count["beleggingsfraude"] == 284
    assert 5_550_000 <= damage["beleggingsfraude"] < 5_650_000
    assert 1100 <= count["bankhelpdeskfraude"] <= 1199
    assert 4_250_000 <= damage["bankhelpdeskfraude"] < 4_350_000
    three = ("aan_en_verkoopfraude", "beleggingsfraude", "bankhelpdeskfraude")
    assert 6800 <= sum(count[d] for d in three) <= 6899
    assert sum(damage[d] for d in three) > 10_000_000
    assert max(count, key=count.get) == "aan_en_verkoopfraude"
    by_damage = sorted(damage, key=damage.get, reverse=True)
    assert by_damage[:2] == ["beleggingsfraude", "bankhelpdeskfraude"]


def test_police_trends_2023_to_2024(police: duckdb.DuckDBPyConnection) -> None:
    totals = dict(
        police.execute("""
        select jaar || ':' || s, n from (
            select jaar, online_kenmerk as s, count(*) as n from police
            where online_kenmerk in ('cybercrime', 'gedigitaliseerd') group by all
            union all
            select jaar, 'fraude_totaal', count(*) from police where is_fraude group by all
        )
    """).fetchall()
    )

    def trend(series: str) -> float:
        old, new = totals[f"2023:{series}"], totals[f"2024:{series}"]
        return round(100 * (new - old) / old, 1)

    assert trend("cybercrime") == -42.0
    assert trend("gedigitaliseerd") == 12.0
    assert trend("fraude_totaal") == 9.0


def test_police_labelling_and_instroom(police: duckdb.DuckDBPyConnection) -> None:
    share = dict(
        police.execute("""
        select jaar, avg(case when online_kenmerk = 'onbekend' then 1 else 0 end)
        from police group by jaar
    """).fetchall()
    )
    assert 0.10 <= share[2023] <= 0.20 and 0.10 <= share[2022] <= 0.20
    assert share[2024] == share[2025] == 0
    instroom = dict(
        police.execute("""
        select jaar, count(*) from police
        where doorgestuurd_om = 'J' and online_kenmerk in ('cybercrime', 'gedigitaliseerd')
        group by jaar
    """).fetchall()
    )
    assert 1.0 < instroom[2025] / instroom[2024] < 1.10  # above 2024, behind the +10% target
    ages = dict(
        police.execute("""
        select delictsvorm, avg(case when leeftijdsklasse = '65+' then 1 else 0 end)
        from police where leeftijdsklasse is not null group by all
    """).fetchall()
    )
    assert ages["bankhelpdeskfraude"] > 2 * ages["aan_en_verkoopfraude"]


def test_veiligheidsmonitor_2023_midden_nederland(demo: GenerationSummary) -> None:
    path = demo.home / "landing/veiligheidsmonitor/veiligheidsmonitor_2023.csv"
    rows = duckdb.execute(
        """
        select Onderwerp, Marges, try_cast(Waarde as decimal(5, 1)) from read_csv(?, delim = ';',
        quote = '"', all_varchar = true) where RegioS = 'RE03'
    """,
        [str(path)],
    ).fetchall()
    value = {(s, m): float(v) for s, m, v in rows if v is not None}
    assert value[("aangifte_online", "MW00000")] == 16.9
    assert value[("melding_elders_online", "MW00000")] == 40.0
    assert value[("slachtoffer_online_totaal", "MW00000")] == 15.6
    for subject in ("aangifte_online", "melding_elders_online", "slachtoffer_online_totaal"):
        low, high = value[(subject, "MOG0095")], value[(subject, "MBG0095")]
        assert low < value[(subject, "MW00000")] < high


def test_programme_2025_has_targets_met_and_behind(demo: GenerationSummary) -> None:
    files = [str(p) for p in _latest(_files(demo, "programma_registraties"))]
    con = duckdb.connect()
    con.execute("create table p as select * from read_csv(?, all_varchar = true, header = true)", [files])
    totals = dict(
        con.execute("""
        select activiteit, sum(cast(aantal as int)) from p where datum like '2025-%' group by all
    """).fetchall()
    )
    assert totals["kennisbijeenkomst"] >= 12 and totals["bestuurlijke_rapportage"] >= 5
    assert totals["huisbezoek"] < 10
    per_team = dict(
        con.execute("""
        select gebied, count(*) from p
        where activiteit = 'informatiebeeld_besproken' and datum like '2025-%' group by all
    """).fetchall()
    )
    teams = {r["basisteam"] for r in _read_dicts(_seed("gemeenten_midden_nederland.csv"))}
    assert set(per_team) == teams
    assert 0 < sum(1 for n in per_team.values() if n < 2) < len(teams)
