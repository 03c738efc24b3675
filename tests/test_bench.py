"""`dvcc bench` at a small scale: the plain-DuckDB baseline must equal the publication.

Nothing here asserts timings; the point is that the benchmark compares the same work, and
that a baseline which disagrees with the published figures is caught.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import duckdb
import pytest

from dvcc_pipeline.bench import run_benchmark
from dvcc_pipeline.bench.baseline import (
    compare_with_published,
    read_fhd_fastexcel,
    read_fhd_workbooks,
    run_baseline,
)
from dvcc_pipeline.bench.floor import compare_marts
from dvcc_pipeline.bench.memory import PeakRssSampler, tree_rss_kib
from dvcc_pipeline.bench.runner import CORRECTED_QUARTER, write_correction
from dvcc_pipeline.config import FEEDS, get_settings
from dvcc_pipeline.demo import police
from dvcc_pipeline.demo.generator import generate
from dvcc_pipeline.demo.municipalities import load_gemeenten
from dvcc_pipeline.publication.contract import load_published_contract

SCALE = 0.05
# The benchmark run itself at scale 1: the blocking interval audit must pass on a second data set
# (seed 7, not the demo's) at the size the programme works with, not only on a toy.
BENCH_SCALE = 1


@pytest.fixture(scope="module")
def bench_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[int, Path, Path]:
    """One benchmark run without the correction (the slow part is the pipeline run itself);
    returns (exit code, the kept temporary home, the caller's home)."""
    caller = tmp_path_factory.mktemp("caller")
    workdir = tmp_path_factory.mktemp("bench")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("DVCC_HOME", str(caller))
        code = run_benchmark(scale=BENCH_SCALE, seed=7, workdir=workdir, with_correction=False)
    (home,) = workdir.iterdir()
    return code, home, caller


@pytest.mark.slow
def test_baseline_equals_published_figures(bench_run) -> None:
    code, home, _ = bench_run
    (result_file,) = (home / "bench").glob("*.json")
    result = json.loads(result_file.read_text(encoding="utf-8"))
    assert result["verschillen"] == []
    assert result["basislijn_gelijk"] is True
    assert code == 0


@pytest.mark.slow
def test_blocking_interval_audit_passes_at_scale_1(bench_run) -> None:
    """The bench's publication went through the blocking audit: no small count pinned, no
    hidden amount narrowed below its protection, and every count below eenheid a multiple of 5."""
    _, home, _ = bench_run
    (published,) = home.rglob("published.duckdb")
    with duckdb.connect(str(published), read_only=True) as conn:
        pinned, narrow, rounded = conn.execute(
            "SELECT aantallen_vastgepind, bedragen_te_smal, cellen_afgerond FROM publicatie "
            "ORDER BY gepubliceerd_op DESC LIMIT 1"
        ).fetchone()
        off_base = conn.execute(
            "SELECT count(*) FROM fct_meldingen_kwartaal WHERE aantal % 5 <> 0"  # gemeente rows only
        ).fetchone()[0]
    assert (pinned, narrow) == (0, 0)
    assert rounded > 0
    assert off_base == 0


@pytest.mark.slow
def test_same_output_floor_makes_every_published_mart(bench_run) -> None:
    """The headline floor builds every published mart from the same files, row for row equal."""
    _, home, _ = bench_run
    (result_file,) = (home / "bench").glob("*.json")
    result = json.loads(result_file.read_text(encoding="utf-8"))
    published = {t.name for t in load_published_contract().mart_tables}
    assert set(result["vloer_marts"]) == published
    assert all(
        m["rijen"] > 0 and m["alleen_vloer"] == m["alleen_warehouse"] == 0 for m in result["vloer_marts"].values()
    )
    assert result["vloer_gelijk"] is True
    assert result["vloer"]["inlezen_seconden"] > 0 and result["vloer"]["dbt_sql_seconden"] > 0
    assert result["verhouding_zelfde_uitvoer"] == round(result["volledig"]["seconden"] / result["vloer"]["seconden"], 1)


@pytest.mark.slow
def test_mart_comparison_catches_a_changed_row(bench_run, tmp_path: Path) -> None:
    _, home, _ = bench_run
    warehouse = home / "warehouse" / "dvcc.duckdb"
    changed = tmp_path / "dvcc.duckdb"
    changed.write_bytes(warehouse.read_bytes())
    with duckdb.connect(str(changed)) as conn:
        conn.execute("update marts.ind_kwaliteit set leveringen = leveringen + 1 where bron = 'bank' and jaar = 2023")
    comparison = compare_marts(warehouse, changed)
    assert not comparison.equal
    assert [d[1] for d in comparison.differences()] == ["ind_kwaliteit"]
    assert comparison.per_mart["ind_kwaliteit"][:2] == (1, 1)


@pytest.mark.slow
def test_results_are_written_for_the_caller(bench_run) -> None:
    _, _, caller = bench_run
    (json_path,) = (caller / "bench").glob(f"bench_schaal{BENCH_SCALE:g}_*.json")
    (md_path,) = (caller / "bench").glob(f"bench_schaal{BENCH_SCALE:g}_*.md")
    result = json.loads(json_path.read_text(encoding="utf-8"))
    assert result["schaal"] == BENCH_SCALE
    assert set(result["rijen_per_feed"]) == set(FEEDS)
    assert result["volledig"]["piek_rss_mib"] > 0
    assert result["volledig"]["stappen"]["dbt_build"] > 0
    # every feed's intake is timed, whichever run took it in (`dvcc run`'s one run or a sensor's)
    assert result["volledig"]["stappen"]["validatie_en_laden"] > 0
    assert all(result["volledig"]["per_feed"][feed] > 0 for feed in FEEDS)
    assert result["incrementeel"] is None
    table = md_path.read_text(encoding="utf-8")
    assert "| **totaal (`dvcc run`)** |" in table
    assert "Basislijn gelijk aan de gepubliceerde eenheidscijfers: **ja**" in table
    assert "Marts van de vloer rij voor rij gelijk aan die van het warehouse: **ja**" in table


def test_correction_withdraws_and_relabels_rows(tmp_path: Path) -> None:
    settings = dataclasses.replace(get_settings(), home=tmp_path)
    correction = write_correction(settings, SCALE, 7)
    year, quarter = CORRECTED_QUARTER
    original = list(police.police_rows(year, quarter, SCALE, 7, load_gemeenten()))
    path = settings.landing_for(police.FEED_ID) / correction["bestand"]
    with duckdb.connect() as conn:
        corrected = conn.execute("select * from read_csv(?, all_varchar = true)", [str(path)]).fetchall()
    assert correction["bestand"] == police.file_name(year, quarter, 2)
    assert correction["rijen"] == len(corrected) == len(original) - len(original) // 50
    by_id = {row[0]: row for row in original}
    relabelled = [row for row in corrected if tuple(by_id[row[0]]) != tuple(v or "" for v in row)]
    assert relabelled and all(row[6] in ("cybercrime", "gedigitaliseerd") for row in relabelled)


@pytest.mark.slow
def test_comparison_catches_a_wrong_figure(bench_run, tmp_path: Path) -> None:
    """Tamper with one published eenheid figure: the comparison must name it."""
    _, home, _ = bench_run
    published = tmp_path / "published.duckdb"
    published.write_bytes((home / "published" / "published.duckdb").read_bytes())
    with duckdb.connect(str(published)) as conn:
        conn.execute(
            """update ind_delictsvormen_jaar set meldingen_bank = meldingen_bank + 1
               where regio_niveau = 'eenheid' and jaar = 2023 and delictsvorm = 'phishing'"""
        )
    landing = tmp_path / "home"
    generate(landing, scale=BENCH_SCALE, seed=7, scenarios=False)
    with duckdb.connect() as conn:
        run_baseline(conn, landing / "landing")
        comparison = compare_with_published(conn, published)
    assert [(d[0], d[1], d[2]) for d in comparison.differences] == [(2023, "phishing", "meldingen_bank")]


def test_fhd_workbooks_keep_empty_trailing_cells(tmp_path: Path) -> None:
    summary = generate(tmp_path, scale=SCALE, seed=7, scenarios=False)
    files = [f for f in summary.files if f.feed_id == "fraudehelpdesk_meldingen"][:2]
    table = read_fhd_workbooks([f.path for f in files])
    assert table.num_rows == sum(f.rows for f in files)
    assert table.column("Schadebedrag").null_count > 0


def test_peak_rss_covers_child_processes() -> None:
    import subprocess
    import sys

    child = subprocess.Popen([sys.executable, "-c", "import time; x = bytearray(80 * 2**20); time.sleep(1.5)"])
    with PeakRssSampler(child.pid, interval=0.05) as sampler:
        child.wait()
    assert sampler.peak_kib > 80 * 1024
    assert tree_rss_kib(2**22 + 12345) == 0  # no such process


def test_fastexcel_floor_reads_what_the_other_readers_read(tmp_path: Path) -> None:
    summary = generate(tmp_path, scale=SCALE, seed=7, scenarios=False)
    paths = [f.path for f in summary.files if f.feed_id == "fraudehelpdesk_meldingen"][:3]
    floor = read_fhd_fastexcel(paths)
    assert floor.num_rows > 0
    assert floor.equals(read_fhd_workbooks(paths))
    assert floor.equals(read_fhd_workbooks(paths, pipeline_reader=True))
