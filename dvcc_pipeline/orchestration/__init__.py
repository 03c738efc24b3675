"""The Dagster jobs and sensors that span concerns.

The processing run after ingestion, what it must rebuild since the last publication, and
the sensor that starts it once ingestion has settled.
"""
