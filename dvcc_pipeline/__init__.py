"""DVCC-informatiepijplijn: governed ingestion, dbt standardisation and publication."""

__version__ = "0.1.0"
