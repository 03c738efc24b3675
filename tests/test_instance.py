"""Dagster's instance config: the same limits with SQLite and PostgreSQL, and the deploy example up to date."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import yaml

from dvcc_pipeline.config import REPO_ROOT, get_settings
from dvcc_pipeline.operations.instance import instance_yaml


def _config(pg_url: str | None, home: Path) -> dict:
    settings = dataclasses.replace(get_settings(), home=home, dagster_pg_url=pg_url)
    return yaml.safe_load(instance_yaml(settings))


def test_both_storages_keep_the_single_writer_limits() -> None:
    sqlite = _config(None, Path("/srv/dvcc"))
    postgres = _config("postgresql://u:p@h:5432/d", Path("/srv/dvcc"))
    assert sqlite["storage"] == {"sqlite": {"base_dir": "/srv/dvcc/dagster/storage"}}
    assert postgres["storage"] == {"postgres": {"postgres_url": {"env": "DVCC_DAGSTER_PG_DRIVER_URL"}}}
    for config in (sqlite, postgres):
        assert config["concurrency"] == {"pools": {"default_limit": 1}, "runs": {"max_concurrent_runs": 1}}
        assert config["run_monitoring"]["enabled"] is True
    assert {k: v for k, v in sqlite.items() if k != "storage"} == {k: v for k, v in postgres.items() if k != "storage"}


def test_the_password_never_lands_in_the_file() -> None:
    settings = dataclasses.replace(get_settings(), dagster_pg_url="postgresql://dvcc:geheim@db:5432/dvcc")
    assert "geheim" not in instance_yaml(settings)


def test_deploy_example_is_what_dvcc_writes() -> None:
    example = yaml.safe_load((REPO_ROOT / "deploy" / "dagster.postgres.yaml").read_text(encoding="utf-8"))
    assert example == _config("postgresql://u:p@h:5432/d", Path("/srv/dvcc"))
