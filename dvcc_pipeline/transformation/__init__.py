"""The dbt project (staging -> intermediate -> marts) wired into Dagster."""
