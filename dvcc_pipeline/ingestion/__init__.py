"""Contract-driven ingestion: pick-up, checks, personal-data screen, load, archive, receipts.

Dagster assets and sensors live in `assets.py` and `sensors.py`; they only call the
functions exported here.
"""

from dvcc_pipeline.ingestion.door import DeliveryChanged, Fingerprint, settle
from dvcc_pipeline.ingestion.ingest import ingest_delivery, quarantine_stray, quarantine_unknown
from dvcc_pipeline.ingestion.landing import (
    LandingScan,
    PendingDelivery,
    scan_landing,
    unknown_entries,
)
from dvcc_pipeline.ingestion.ledger import ensure_raw_schema
from dvcc_pipeline.ingestion.receipt import (
    ACCEPTED,
    ACCEPTED_WITH_REJECTS,
    DUPLICATE,
    REJECTED,
    REPLACED,
    Problem,
    Receipt,
)
from dvcc_pipeline.ingestion.retention import RetentionAction, apply_retention
from dvcc_pipeline.ingestion.validator import validate_file

__all__ = [
    "ACCEPTED",
    "ACCEPTED_WITH_REJECTS",
    "DUPLICATE",
    "REJECTED",
    "REPLACED",
    "DeliveryChanged",
    "Fingerprint",
    "LandingScan",
    "PendingDelivery",
    "Problem",
    "Receipt",
    "RetentionAction",
    "apply_retention",
    "ensure_raw_schema",
    "ingest_delivery",
    "quarantine_stray",
    "quarantine_unknown",
    "scan_landing",
    "settle",
    "unknown_entries",
    "validate_file",
]
