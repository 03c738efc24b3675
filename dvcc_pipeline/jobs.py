"""Jobs that span concerns: the processing run after ingestion."""

import dagster as dg

from dvcc_pipeline.ingestion.assets import INGESTION_GROUP

# Everything downstream of ingestion: dbt (seeds, staging, intermediate, marts and their
# tests), the quality gate and publication.
PROCESSING_JOB = dg.define_asset_job(
    name="verwerking",
    selection=dg.AssetSelection.all() - dg.AssetSelection.groups(INGESTION_GROUP),
    description="Bouwt, toetst en publiceert alles wat uit de geladen leveringen volgt.",
)
