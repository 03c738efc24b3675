"""`dvcc bench`: pipeline timings per stage, peak memory and a plain-DuckDB baseline."""

from dvcc_pipeline.bench.runner import benchmark, run_benchmark

__all__ = ["benchmark", "run_benchmark"]
