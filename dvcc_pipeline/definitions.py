"""Assembles the Dagster code location; every piece is defined in its own module.

Importing it writes nothing: the entry points that start Dagster (`dvcc run`, `dvcc serve`,
`dvcc ui`) prepare DVCC_HOME and Dagster's instance first (`instance.prepare_instance`), and
the code servers and run workers they start inherit the exported paths.
"""

import warnings

import dagster as dg

from dvcc_pipeline.ingestion.assets import (
    INGESTION_ASSETS,
    INGESTION_JOBS,
    LEDGER_ASSET,
    ingestie,
    landing_opruimen,
)
from dvcc_pipeline.ingestion.freshness import FRESHNESS_CHECKS, FRESHNESS_JOB, FRESHNESS_SCHEDULE
from dvcc_pipeline.ingestion.retention_job import RETENTION_JOB, RETENTION_SCHEDULE
from dvcc_pipeline.ingestion.sensors import LANDING_SENSORS
from dvcc_pipeline.orchestration.automation import PROCESSING_SENSOR
from dvcc_pipeline.orchestration.jobs import PROCESSING_JOB
from dvcc_pipeline.publication.assets import PUBLICATION_ASSETS
from dvcc_pipeline.quality.checks import QUALITY_CHECKS
from dvcc_pipeline.reporting.assets import REPORT_ASSETS
from dvcc_pipeline.runtime.proctitle import name_run_worker
from dvcc_pipeline.runtime.recovery import runs_zonder_proces
from dvcc_pipeline.runtime.warehouse import WarehouseResource
from dvcc_pipeline.transformation.assets import dvcc_dbt_assets
from dvcc_pipeline.transformation.project import dbt_resource

# A run of the service executes in a spawned child of the code server: named `dvcc-run` in ps.
name_run_worker()

# No sensor here sets `owners`, but Dagster copies each sensor when it binds it to its jobs and
# passes the empty list it stored (`SensorDefinition.with_attributes`), which trips its own beta
# warning on stderr of every process that loads this location. Only that warning is silenced.
warnings.filterwarnings(
    "ignore", category=dg.BetaWarning, message=r"Parameter `owners` of initializer `SensorDefinition"
)

defs = dg.Definitions(
    assets=[*INGESTION_ASSETS.values(), LEDGER_ASSET, dvcc_dbt_assets, *PUBLICATION_ASSETS, *REPORT_ASSETS],
    asset_checks=[*QUALITY_CHECKS, *FRESHNESS_CHECKS],
    jobs=[*INGESTION_JOBS.values(), ingestie, landing_opruimen, PROCESSING_JOB, FRESHNESS_JOB, RETENTION_JOB],
    schedules=[FRESHNESS_SCHEDULE, RETENTION_SCHEDULE],
    sensors=[*LANDING_SENSORS, PROCESSING_SENSOR, runs_zonder_proces],
    resources={"warehouse": WarehouseResource(), "dbt": dbt_resource()},
    # Steps share one warehouse writer anyway; in one process a run loads the code once
    # instead of once per step, and runs launched by the daemon execute as `dvcc run` does.
    executor=dg.in_process_executor,
)
