"""Force and verify the failure path of the quality gate (for end-to-end tests and demos).

A blocking check that fails must stop publication and leave the live published.duckdb at the
last good version. `break_mart` spoils a mart the way a faulty model would (a duplicated key),
`run_gate_and_publication` runs only the checks and publication of the processing job (a dbt
run would rebuild, and so repair, the mart), and `publication_state` tells what is live.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import dagster as dg
import duckdb

from dvcc_pipeline.config import Settings
from dvcc_pipeline.publication.assets import PUBLICATION_ASSETS
from dvcc_pipeline.publication.contract import identifier
from dvcc_pipeline.quality.checks import QUALITY_CHECK_KEYS


@dataclass(frozen=True)
class PublicationState:
    """The live publication: its newest `publicatie` row and the file's hash."""

    publicatie_id: str | None
    publications: int
    sha256: str | None


def publication_state(settings: Settings) -> PublicationState:
    path = settings.published_path
    if not path.exists():
        return PublicationState(None, 0, None)
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    with duckdb.connect(str(path), read_only=True) as conn:
        latest, count = conn.execute(
            "SELECT arg_max(publicatie_id, gepubliceerd_op), count(*) FROM publicatie"
        ).fetchone()
    return PublicationState(latest, int(count), digest)


def break_mart(settings: Settings, table: str = "ind_delictsvormen_jaar") -> None:
    """Duplicate one row of a mart, so its blocking `structuur` check (unique keys) fails.

    Writes the warehouse: call it only while no run is writing it.
    """
    name = identifier(table)
    with duckdb.connect(str(settings.warehouse_path)) as conn:
        conn.execute(f"INSERT INTO marts.{name} SELECT * FROM marts.{name} LIMIT 1")


def run_gate_and_publication(
    defs: dg.Definitions, instance: dg.DagsterInstance, job_name: str = "verwerking"
) -> dg.ExecuteInProcessResult:
    """Run the quality checks and the publication assets of the processing job, nothing else."""
    job = defs.resolve_job_def(job_name)
    subset = job.get_subset(
        asset_selection={key for asset in PUBLICATION_ASSETS for key in asset.keys},
        asset_check_selection=set(QUALITY_CHECK_KEYS),
    )
    return subset.execute_in_process(instance=instance, raise_on_error=False)
