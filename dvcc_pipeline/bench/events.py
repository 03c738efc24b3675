"""What one Dagster event costs in the instance storage: SQLite in DVCC_HOME or PostgreSQL.

Every step writes a few dozen events (start, logs, materialisations, checks, end); their
fixed cost is most of a small correction run. Usage:

    DVCC_HOME=/tmp/ev .venv/bin/python -m dvcc_pipeline.bench.events [--events 500]
    DVCC_DAGSTER_PG_URL=postgresql://... DVCC_HOME=/tmp/ev .venv/bin/python -m dvcc_pipeline.bench.events
"""

from __future__ import annotations

import argparse
import time

import dagster as dg

from dvcc_pipeline.config import get_settings
from dvcc_pipeline.operations.instance import get_instance


def measure(events: int) -> float:
    """Seconds per event for `events` asset observations logged by one op."""
    timing: dict[str, float] = {}

    @dg.op
    def observe(context) -> None:
        start = time.perf_counter()
        for number in range(events):
            context.log_event(dg.AssetObservation(asset_key="meting", metadata={"nummer": number}))
        timing["seconds"] = time.perf_counter() - start

    @dg.job
    def eventmeting() -> None:
        observe()

    settings = get_settings()
    with get_instance(settings) as instance:
        eventmeting.execute_in_process(
            instance=instance, run_config={"loggers": {"console": {"config": {"log_level": "CRITICAL"}}}}
        )
    return timing["seconds"] / events


def main() -> None:
    parser = argparse.ArgumentParser(description="Kosten van één Dagster-event in de opslag.")
    parser.add_argument("--events", type=int, default=500)
    args = parser.parse_args()
    storage = "PostgreSQL" if get_settings().dagster_pg_url else "SQLite"
    per_event = measure(args.events)
    print(f"{storage}: {per_event * 1000:.2f} ms per event ({args.events} events)")


if __name__ == "__main__":
    main()
