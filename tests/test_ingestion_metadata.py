"""What the Dagster UI shows of a delivery: a re-run without a new file keeps the latest metadata."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import pytest
from test_ingestion_samples import POLICE, write_police

from dvcc_pipeline.config import get_settings
from dvcc_pipeline.contracts import load_partners
from dvcc_pipeline.ingestion.assets import INGESTION_ASSETS, PARTITIONS, ingestion_asset_key
from dvcc_pipeline.runtime.warehouse import WarehouseResource

PERIOD = "2024Q3"


def _run(instance: dg.DagsterInstance) -> dg.ExecuteInJobResult:
    result = dg.materialize(
        [INGESTION_ASSETS[POLICE]],
        instance=instance,
        partition_key=PERIOD,
        resources={"warehouse": WarehouseResource()},
    )
    assert result.success
    return result


def test_rerun_without_a_new_file_is_an_observation(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DVCC_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("DVCC_SETTLE_SECONDS", "0")
    settings = get_settings()
    settings.ensure_dirs(load_partners())
    instance = dg.DagsterInstance.ephemeral()
    instance.add_dynamic_partitions(PARTITIONS[POLICE].name, [PERIOD])
    write_police(settings.landing_for(POLICE))
    key = ingestion_asset_key(POLICE)

    first = _run(instance)
    [delivered] = first.asset_materializations_for_node("raw__politie_registraties")
    assert delivered.metadata["status"].value == "geaccepteerd"
    receipt = delivered.metadata["ontvangstbewijs"]
    assert isinstance(receipt, dg.MarkdownMetadataValue) and "politie_registraties_2024Q3.csv" in receipt.value
    assert str(settings.home) not in receipt.value
    assert "| problemen |" in delivered.metadata["leveringen"].value

    second = _run(instance)
    assert second.asset_materializations_for_node("raw__politie_registraties") == []
    [observed] = second.asset_observations_for_node("raw__politie_registraties")
    assert observed.partition == PERIOD and observed.metadata["status"].value == "geen nieuwe levering in landing"
    latest = instance.get_latest_materialization_event(key).asset_materialization
    assert latest.metadata["levering_id"] == delivered.metadata["levering_id"]
    assert latest.metadata["status"].value == "geaccepteerd"


def test_descriptions_are_plain_paragraphs() -> None:
    """The UI shows descriptions in views that do not render Markdown headings."""
    from dvcc_pipeline.definitions import defs

    graph = defs.resolve_asset_graph()
    for key in graph.get_all_asset_keys():
        description = graph.get(key).description or ""
        assert "#" not in description, (key, description[:120])
    for job in defs.resolve_all_job_defs():
        assert "#" not in (job.description or ""), job.name
