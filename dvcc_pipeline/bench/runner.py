"""`dvcc bench`: the whole pipeline on scale-N deliveries against a plain-DuckDB baseline.

The pipeline runs as `dvcc run` in a subprocess on a temporary DVCC_HOME, so its wall time
includes start-up and its peak memory is that of its own process tree (Dagster + dbt).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import duckdb

from dvcc_pipeline.bench.baseline import baseline_totals, compare_with_published, run_baseline
from dvcc_pipeline.bench.floor import DATABASE, compare_marts, compile_project, run_floor
from dvcc_pipeline.bench.memory import PeakRssSampler
from dvcc_pipeline.bench.report import BenchResult, RunMeasurement
from dvcc_pipeline.bench.stages import feed_seconds, stage_seconds, step_seconds
from dvcc_pipeline.config import Settings, get_settings
from dvcc_pipeline.contracts import load_partners
from dvcc_pipeline.demo import police
from dvcc_pipeline.demo.generator import generate
from dvcc_pipeline.demo.municipalities import load_gemeenten
from dvcc_pipeline.demo.writers import csv_rows
from dvcc_pipeline.operations.progress import Progress, Silent

EXIT_OK, EXIT_FAILED = 0, 1
CORRECTED_QUARTER = (2024, 3)
_SWAP = {"gedigitaliseerd": "cybercrime", "cybercrime": "gedigitaliseerd"}


def _run_pipeline(
    settings: Settings, known_runs: set[str], log_name: str, progress: Progress | None = None
) -> tuple[RunMeasurement, set[str]]:
    """`dvcc run` on `settings.home` in a subprocess, timed and memory-sampled; the child's
    stage lines are shown as they come (indented) and the whole output goes to the log."""
    env = {**os.environ, "DVCC_HOME": str(settings.home)}
    for derived in ("DAGSTER_HOME", "DVCC_WAREHOUSE_PATH"):  # the child derives them from DVCC_HOME
        env.pop(derived, None)
    log_path = settings.bench_dir / log_name
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with log_path.open("w", encoding="utf-8") as log:
        start = time.perf_counter()
        process = subprocess.Popen(
            [sys.executable, "-m", "dvcc_pipeline.cli", "run", "--direct"],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            encoding="utf-8",
            errors="replace",
        )
        with PeakRssSampler(process.pid) as sampler:
            assert process.stdout is not None
            for line in process.stdout:
                log.write(line)
                if progress is not None and line.startswith(("✓", "✗")):
                    progress.note(f"    {line.rstrip()}")
            code = process.wait()
        seconds = time.perf_counter() - start
    if code != 0:
        raise RuntimeError(f"dvcc run eindigde met code {code}; zie {log_path}")
    steps, run_ids = step_seconds(settings.dagster_home, known_runs)
    measurement = RunMeasurement(
        seconden=round(seconds, 2),
        stappen=stage_seconds(steps),
        per_feed=feed_seconds(steps),
        piek_rss_mib=sampler.peak_mib,
    )
    return measurement, run_ids


def write_correction(settings: Settings, scale: float, seed: int) -> dict[str, object]:
    """A `_v2` of one police quarter: every 50th registration withdrawn, every 25th relabelled."""
    year, quarter = CORRECTED_QUARTER
    path = settings.landing_for(police.FEED_ID) / police.file_name(year, quarter, 2)
    label = police.HEADER.index("online_kenmerk")
    rows = 0
    with csv_rows(path, police.HEADER) as writer:
        for number, row in enumerate(police.police_rows(year, quarter, scale, seed, load_gemeenten()), start=1):
            if number % 50 == 0:
                continue
            if number % 25 == 0:
                row[label] = _SWAP.get(row[label], row[label])
            writer.writerow(row)
            rows += 1
    return {"bestand": path.name, "periode": f"{year}Q{quarter}", "rijen": rows}


def _machine() -> dict[str, object]:
    return {
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "duckdb": duckdb.__version__,
        "platform": platform.platform(),
    }


def benchmark(
    home: Path, scale: float, seed: int, *, with_correction: bool = True, progress: Progress | None = None
) -> BenchResult:
    """Generate, baseline, full run, compare, then a correction and its run — all in `home`."""
    settings = dataclasses.replace(get_settings(), home=home)
    settings.ensure_dirs(load_partners())
    started = dt.datetime.now().replace(microsecond=0).isoformat()
    progress = progress if progress is not None else Silent()

    with progress.stage("demoleveringen genereren"):
        start = time.perf_counter()
        summary = generate(home, scale=scale, seed=seed, scenarios=False)
        generation = time.perf_counter() - start
    rows = summary.rows_per_feed()

    floor_dir = settings.bench_dir / "vloer"
    floor_database = floor_dir / f"{DATABASE}.duckdb"
    with progress.stage("vloer voorbereiden: dbt compile"):
        nodes = compile_project(floor_dir)
    # Before the pipeline archives the files out of landing.
    with progress.stage("vloer: dezelfde marts met DuckDB en de gecompileerde dbt-SQL"):
        floor = run_floor(settings.landing_dir, floor_database, nodes)
    with duckdb.connect() as conn:
        with progress.stage("basislijn: kale DuckDB"):
            timing = run_baseline(conn, settings.landing_dir)
            read = baseline_totals(conn)
        with progress.stage("volledige run (dvcc run)"):
            full, runs = _run_pipeline(settings, set(), "run_volledig.log", progress)
        with progress.stage("publicatie vergelijken met de basislijn"):
            comparison = compare_with_published(conn, settings.published_path)
        with progress.stage("marts van de vloer vergelijken met het warehouse"):
            marts = compare_marts(floor_database, settings.warehouse_path)
    diffs = list(comparison.differences) + marts.differences()
    if marts.equal:  # a copy of every mart (GBs at scale 100) kept only to inspect a difference
        shutil.rmtree(floor_dir, ignore_errors=True)
    mismatched = {feed for feed, count in read.items() if count != rows[feed]}
    if mismatched:
        diffs.append(("-", "rijen gelezen", ", ".join(sorted(mismatched)), "", ""))
    if not timing.same_rows:
        diffs.append(("-", "Excel-lezers", "fastexcel, openpyxl en de lezer van de pijplijn lezen iets anders", "", ""))

    correction: dict[str, object] = {}
    incremental = None
    if with_correction:
        correction = write_correction(settings, scale, seed)
        with progress.stage("correctie verwerken (incrementele run)"):
            incremental, _ = _run_pipeline(settings, runs, "run_correctie.log", progress)

    return BenchResult(
        schaal=scale,
        seed=seed,
        gestart_op=started,
        machine=_machine(),
        rijen_per_feed=rows,
        bestanden_per_feed={feed: len(files) for feed, files in summary.files_per_feed().items()},
        generatie_seconden=round(generation, 2),
        basislijn={
            "seconden": round(timing.total_seconds, 2),
            "excel_seconden": round(timing.excel_seconds, 2),
            "sql_seconden": round(timing.sql_seconds, 2),
            "excel_openpyxl_seconden": round(timing.excel_openpyxl_seconds, 2),
            "excel_pijplijnlezer_seconden": round(timing.excel_pipeline_seconds, 2),
        },
        volledig=full,
        vloer={
            "seconden": round(floor.seconden, 2),
            "inlezen_seconden": round(floor.inlezen, 2),
            "dbt_sql_seconden": round(floor.dbt_sql, 2),
            "per_feed": floor.per_feed,
        },
        vloer_marts={
            name: {"rijen": counts[2], "alleen_vloer": counts[0], "alleen_warehouse": counts[1]}
            for name, counts in marts.per_mart.items()
        },
        correctie=correction,
        incrementeel=incremental,
        basislijn_gelijk=not diffs,
        onderdrukt_niet_vergeleken=comparison.withheld_cells,
        verschillen=[list(d) for d in diffs[:50]],
    )


def run_benchmark(scale: float, seed: int, workdir: Path | None, *, with_correction: bool = True) -> int:
    """`dvcc bench`: run, write JSON + Markdown to the temporary home's `bench/` and to the
    caller's `bench_dir` (`$DVCC_HOME/bench`, default `<repo>/.dvcc/bench`), print the table.

    The temporary home is removed afterwards unless `workdir` was given (then it is kept
    for inspection). Exit code 1 when the baseline and the publication disagree.
    """
    caller = get_settings()
    if workdir is not None:
        workdir.mkdir(parents=True, exist_ok=True)
    home = Path(tempfile.mkdtemp(prefix="dvcc_bench_", dir=workdir)).resolve()
    print(f"Benchmark schaal {scale:g} in {home}", flush=True)
    try:
        result = benchmark(home, scale, seed, with_correction=with_correction, progress=Progress())
    except RuntimeError as exc:
        print(f"Benchmark mislukt: {exc}", file=sys.stderr)
        return EXIT_FAILED
    result.write(home / "bench")
    json_path, md_path = result.write(caller.bench_dir)
    if workdir is None:
        shutil.rmtree(home, ignore_errors=True)
    print(result.to_markdown())
    print(f"Geschreven: {json_path} en {md_path}")
    if not result.basislijn_gelijk:
        for diff in result.verschillen[:10]:
            print(f"Verschil: {diff}", file=sys.stderr)
        return EXIT_FAILED
    return EXIT_OK
