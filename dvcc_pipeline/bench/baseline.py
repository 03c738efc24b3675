"""The plain-DuckDB baseline and its comparison with what the pipeline published.

The baseline reads the partner files straight from landing with `baseline.sql`; the
Fraudehelpdesk workbooks are converted to Arrow first (DuckDB's excel extension is not
available offline), and that conversion is timed as part of the baseline. The floor reads
them with fastexcel (calamine in Rust, straight to Arrow; ids and codes as text, so they stay
exact), the fastest maintained reader measured. Two conversions are timed as secondary
figures: openpyxl (the standard reader) and the pipeline's own sheet reader
(`ingestion.xlsx.read_sheet`); all three must give the same table.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pyarrow as pa

from dvcc_pipeline.config import FEEDS, SEEDS_DIR
from dvcc_pipeline.ingestion.xlsx import read_sheet
from dvcc_pipeline.publication.contract import load_published_contract

SQL_PATH = Path(__file__).with_name("baseline.sql")
FHD_SHEET = "Meldingen"
FHD_SCHEMA = pa.schema(
    [
        ("Meldingnummer", pa.int64()),
        ("Datum melding", pa.date32()),
        ("Soort melding", pa.string()),
        ("Categorie", pa.string()),
        ("Gemeente", pa.string()),
        ("Leeftijd", pa.string()),
        ("Contactkanaal", pa.string()),
        ("Schade", pa.string()),
        ("Schadebedrag", pa.float64()),
    ]
)
POLICE, BANK, FHD = FEEDS[0], FEEDS[1], FEEDS[2]


# fastexcel's dtype per column: text for ids and codes (exact, never through a float).
FASTEXCEL_DTYPES = {
    field.name: "date" if field.type == pa.date32() else "float" if field.type == pa.float64() else "string"
    for field in FHD_SCHEMA
}


@dataclass(frozen=True)
class BaselineTiming:
    excel_seconds: float
    """The floor: the workbooks to Arrow with fastexcel."""
    sql_seconds: float
    excel_openpyxl_seconds: float
    """The same conversion with openpyxl (secondary)."""
    excel_pipeline_seconds: float
    """The same conversion with the pipeline's own sheet reader (secondary)."""
    same_rows: bool
    """All three readers produced the same table."""

    @property
    def total_seconds(self) -> float:
        return self.excel_seconds + self.sql_seconds


def _as_date(value: object) -> dt.date | None:
    return value.date() if isinstance(value, dt.datetime) else value  # type: ignore[return-value]


def _openpyxl_rows(path: Path) -> Iterator[tuple[object, ...]]:
    from openpyxl import load_workbook  # heavy import, only for the Excel feed

    workbook = load_workbook(path, read_only=True, data_only=True)
    try:
        yield from workbook[FHD_SHEET].iter_rows(values_only=True)
    finally:
        workbook.close()


def _pipeline_rows(path: Path) -> Iterator[tuple[object, ...]]:
    rows = read_sheet(path, FHD_SHEET)
    if rows is None:  # a workbook the pipeline's reader leaves to openpyxl
        yield from _openpyxl_rows(path)
        return
    for _, values in rows:
        yield tuple(values)


def read_fhd_fastexcel(paths: list[Path]) -> pa.Table:
    """All `Meldingen` sheets as one Arrow table with fastexcel: the baseline's floor."""
    import fastexcel  # only for the Excel feed

    tables = []
    for path in paths:
        sheet = fastexcel.read_excel(path).load_sheet_by_name(FHD_SHEET, dtypes=FASTEXCEL_DTYPES)
        table = sheet.to_arrow()
        if table.column_names[: len(FHD_SCHEMA)] != FHD_SCHEMA.names:
            raise ValueError(f"{path.name}: onverwachte kolommen {table.column_names}")
        arrays = [table.column(field.name).cast(field.type) for field in FHD_SCHEMA]
        tables.append(pa.Table.from_arrays(arrays, schema=FHD_SCHEMA))
    return pa.concat_tables(tables) if tables else FHD_SCHEMA.empty_table()


def read_fhd_workbooks(paths: list[Path], *, pipeline_reader: bool = False) -> pa.Table:
    """All `Meldingen` sheets as one Arrow table, read by openpyxl or the pipeline's reader."""
    names = FHD_SCHEMA.names
    columns: list[list[object]] = [[] for _ in names]
    for path in paths:
        rows = iter(_pipeline_rows(path) if pipeline_reader else _openpyxl_rows(path))
        header = [str(c).strip() if c is not None else "" for c in next(rows)]
        if header[: len(names)] != names:
            raise ValueError(f"{path.name}: onverwachte kolommen {header}")
        width = len(names)
        for row in rows:  # read-only mode drops trailing empty cells
            padded = (*row, *([None] * (width - len(row))))
            for index, column in enumerate(columns):
                column.append(padded[index])
    if pipeline_reader:  # it gives each cell's text, as the validator reads it
        texts = zip(columns, FHD_SCHEMA, strict=True)
        arrays = [pa.array(values, type=pa.string()).cast(field.type) for values, field in texts]
        return pa.Table.from_arrays(arrays, schema=FHD_SCHEMA)
    date_index = names.index("Datum melding")
    columns[date_index] = [_as_date(v) for v in columns[date_index]]
    return pa.Table.from_arrays(
        [pa.array(values, type=field.type) for values, field in zip(columns, FHD_SCHEMA, strict=True)],
        schema=FHD_SCHEMA,
    )


def _files(landing: Path, feed_id: str, pattern: str) -> list[str]:
    return [str(p) for p in sorted((landing / feed_id).glob(pattern))]


def run_baseline(conn: duckdb.DuckDBPyConnection, landing: Path) -> BaselineTiming:
    """Run `baseline.sql` over the files in `landing`; results stay as temp tables on `conn`."""
    workbooks = [Path(p) for p in _files(landing, FHD, "*.xlsx")]
    start = time.perf_counter()
    by_pipeline = read_fhd_workbooks(workbooks, pipeline_reader=True)
    excel_pipeline_seconds = time.perf_counter() - start
    start = time.perf_counter()
    by_openpyxl = read_fhd_workbooks(workbooks)
    excel_openpyxl_seconds = time.perf_counter() - start
    start = time.perf_counter()
    fhd = read_fhd_fastexcel(workbooks)
    conn.register("fhd_bron", fhd)
    excel_seconds = time.perf_counter() - start
    params: dict[str, object] = {
        "politie_bestanden": _files(landing, POLICE, "*.csv"),
        "bank_bestanden": _files(landing, BANK, "*.csv"),
        "gemeenten_csv": str(SEEDS_DIR / "gemeenten_midden_nederland.csv"),
        "taxonomie_csv": str(SEEDS_DIR / "taxonomy.csv"),
        "klassen_csv": str(SEEDS_DIR / "police_klassen.csv"),
        "broncodes_csv": str(SEEDS_DIR / "source_codes.csv"),
    }
    start = time.perf_counter()
    for statement in conn.extract_statements(SQL_PATH.read_text(encoding="utf-8")):
        conn.execute(statement, {name: params[name] for name in statement.named_parameters})
    return BaselineTiming(
        excel_seconds=excel_seconds,
        sql_seconds=time.perf_counter() - start,
        excel_openpyxl_seconds=excel_openpyxl_seconds,
        excel_pipeline_seconds=excel_pipeline_seconds,
        same_rows=by_pipeline.equals(fhd) and by_openpyxl.equals(fhd),
    )


# Published eenheid rows vs the baseline. An eenheid count of k or more is published exactly and
# must equal the baseline's; a count below k is rounded (disclosure control) and is compared only
# for being published. An amount is compared where published; NULL only where `onderdrukt`. A
# change is compared where both its counts are exact. The cells not compared exactly are counted
# apart in the report ($k, $b: the contract's k and rounding base).
_DELICTSVORMEN_DIFF = """
with pub as (
    select * from pub.ind_delictsvormen_jaar where regio_niveau = 'eenheid'
),
joined as (
    select coalesce(pub.jaar, b.jaar) as jaar, coalesce(pub.delictsvorm, b.delictsvorm) as delictsvorm,
           coalesce(pub.onderdrukt, false) as onderdrukt,
           pub.aangiften as p_aangiften, coalesce(b.aangiften, 0) as b_aangiften,
           pub.schadebedrag_eur as p_schade, coalesce(b.schadebedrag_eur, 0) as b_schade,
           pub.meldingen_bank as p_bank, coalesce(b.meldingen_bank, 0) as b_bank,
           pub.meldingen_fraudehelpdesk as p_fhd, coalesce(b.meldingen_fraudehelpdesk, 0) as b_fhd,
           pub.jaar is null as ontbreekt
    from pub
    full outer join basislijn_delictsvormen_jaar as b
        on pub.jaar = b.jaar and pub.delictsvorm = b.delictsvorm
)
select jaar, delictsvorm, maat, gepubliceerd, basislijn from (
    select jaar, delictsvorm, 'aangiften' as maat, cast(p_aangiften as varchar) as gepubliceerd,
           cast(b_aangiften as varchar) as basislijn,
           ontbreekt or p_aangiften is null or (b_aangiften >= $k and p_aangiften <> b_aangiften) as verschil
    from joined
    union all
    select jaar, delictsvorm, 'schadebedrag_eur', cast(p_schade as varchar), cast(b_schade as varchar),
           ontbreekt or (p_schade is distinct from b_schade
               and not (p_schade is null and onderdrukt))
    from joined
    union all
    select jaar, delictsvorm, 'meldingen_bank', cast(p_bank as varchar), cast(b_bank as varchar),
           ontbreekt or p_bank is null or (b_bank >= $k and p_bank <> b_bank)
    from joined
    union all
    select jaar, delictsvorm, 'meldingen_fraudehelpdesk', cast(p_fhd as varchar), cast(b_fhd as varchar),
           ontbreekt or p_fhd is null or (b_fhd >= $k and p_fhd <> b_fhd)
    from joined
)
where verschil
order by all
"""

_TREND_DIFF = """
with pub as (
    select * from pub.ind_trend_jaar where regio_niveau = 'eenheid'
),
joined as (
    select coalesce(pub.jaar, b.jaar) as jaar, coalesce(pub.reeks, b.reeks) as reeks,
           coalesce(pub.methode, b.methode) as methode,
           pub.aantal as p_aantal, b.aantal as b_aantal,
           pub.verandering_pct as p_pct, b.verandering_pct as b_pct,
           pub.jaar is null or b.jaar is null as ontbreekt,
           -- last year's figure is exact where it cannot be a rounded count below k
           pub.aantal_vorig_jaar >= $k and (pub.aantal_vorig_jaar % $b <> 0 or pub.aantal_vorig_jaar - $b >= $k - 1)
               as vorig_exact
    from pub
    full outer join basislijn_trend_jaar as b
        on pub.jaar = b.jaar and pub.reeks = b.reeks and pub.methode = b.methode
)
select jaar, reeks || '/' || methode, maat, gepubliceerd, basislijn from (
    select jaar, reeks, methode, 'aantal' as maat, cast(p_aantal as varchar) as gepubliceerd,
           cast(b_aantal as varchar) as basislijn,
           ontbreekt or p_aantal is null or (b_aantal >= $k and p_aantal <> b_aantal) as verschil
    from joined
    union all
    select jaar, reeks, methode, 'verandering_pct', cast(p_pct as varchar), cast(b_pct as varchar),
           ontbreekt or (b_aantal >= $k and coalesce(vorig_exact, false) and p_pct is distinct from b_pct)
    from joined
)
where verschil
order by all
"""


_WITHHELD = """
select
    (select count(*) filter (where aangiften < $k) + count(*) filter (where schadebedrag_eur is null)
          + count(*) filter (where meldingen_bank < $k) + count(*) filter (where meldingen_fraudehelpdesk < $k)
     from pub.ind_delictsvormen_jaar where regio_niveau = 'eenheid')
  + (select count(*) filter (where aantal < $k) from pub.ind_trend_jaar where regio_niveau = 'eenheid')
"""


@dataclass(frozen=True)
class Comparison:
    """Where the baseline and the publication disagree, and how many eenheid cells were not
    compared exactly (counts below k are rounded, hidden amounts)."""

    differences: list[tuple[object, ...]]  # (jaar, key, measure, published, baseline)
    withheld_cells: int

    @property
    def equal(self) -> bool:
        return not self.differences


def compare_with_published(conn: duckdb.DuckDBPyConnection, published_path: Path) -> Comparison:
    """Compare the baseline's temp tables on `conn` with the published eenheid rows."""
    conn.execute("attach ? as pub (read_only)", [str(published_path)])
    try:
        policy = load_published_contract().policy
        rules = {"k": int(policy.min_cell_size), "b": int(policy.rounding_base)}
        diffs = conn.execute(_DELICTSVORMEN_DIFF, {"k": rules["k"]}).fetchall()
        diffs += conn.execute(_TREND_DIFF, rules).fetchall()
        withheld = conn.execute(_WITHHELD, {"k": rules["k"]}).fetchone()[0]
    finally:
        conn.execute("detach pub")
    return Comparison(differences=diffs, withheld_cells=int(withheld))


def baseline_totals(conn: duckdb.DuckDBPyConnection) -> dict[str, int]:
    """Row counts the baseline read, for the report (same files as the pipeline)."""
    return {
        POLICE: conn.execute("select count(*) from politie").fetchone()[0],
        BANK: conn.execute("select count(*) from bank").fetchone()[0],
        FHD: conn.execute("select count(*) from fhd_bron").fetchone()[0],
    }
