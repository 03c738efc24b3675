"""The dbt command line is built by a small pure function (no dbt run needed)."""

from dvcc_pipeline.transformation.assets import dbt_build_args


def test_incremental_by_default() -> None:
    assert dbt_build_args(False) == ["build", "--exclude-resource-type", "unit_test"]


def test_full_rebuild_on_request() -> None:
    assert dbt_build_args(True) == ["build", "--exclude-resource-type", "unit_test", "--full-refresh"]
