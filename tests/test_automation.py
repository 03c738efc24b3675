"""The processing sensor: waits for landing to empty and settle, then launches what `dvcc run` would, once."""

from __future__ import annotations

import os
from pathlib import Path

import dagster as dg
import pytest

from dvcc_pipeline.config import FEEDS, get_settings
from dvcc_pipeline.contracts import load_partners
from dvcc_pipeline.ingestion.assets import ingestion_asset_key


@pytest.fixture
def evaluate(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    os.environ.setdefault("DVCC_HOME", str(tmp_path / "import_home"))
    from dvcc_pipeline.definitions import defs

    monkeypatch.setenv("DVCC_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("DVCC_SETTLE_SECONDS", "0")
    get_settings().ensure_dirs(load_partners())
    repository = defs.get_repository_def()
    sensor = repository.get_sensor_def("verwerking_na_ingestie")
    with dg.instance_for_test() as instance:
        yield instance, lambda: sensor(dg.build_sensor_context(instance=instance, repository_def=repository))


def test_nothing_before_the_first_delivery(evaluate) -> None:
    _, tick = evaluate
    result = tick()
    assert isinstance(result, dg.SkipReason)
    assert "Nog geen leveringen" in result.skip_message


def test_waits_while_files_are_in_landing_then_launches_one_run(evaluate) -> None:
    instance, tick = evaluate
    for feed_id in FEEDS:
        instance.report_runless_asset_event(dg.AssetMaterialization(asset_key=ingestion_asset_key(feed_id)))
    waiting = get_settings().landing_for(FEEDS[0]) / "politie_registraties_2025Q1.csv"
    waiting.write_text("x\n", encoding="utf-8")
    (get_settings().landing_for(FEEDS[1]) / "bank_RABO_2025-01.csv.part").write_text("x\n", encoding="utf-8")

    result = tick()
    assert isinstance(result, dg.SkipReason)
    assert "1 bestand(en) in landing of de partnerboxen" in result.skip_message  # the .part upload does not count

    waiting.unlink()
    boxed = get_settings().box_in("politie") / "politie_registraties_2025Q2.csv"
    boxed.parent.mkdir(parents=True, exist_ok=True)
    boxed.write_text("x\n", encoding="utf-8")
    boxed_wait = tick()
    assert isinstance(boxed_wait, dg.SkipReason), "a delivery in a partner's box is waited for too"
    assert "1 bestand(en)" in boxed_wait.skip_message
    boxed.unlink()
    first, second = tick(), tick()
    assert isinstance(first, dg.RunRequest)
    assert dg.AssetKey("published") in first.asset_selection
    assert not any(key.path[0] == "raw" and key.path[1] in FEEDS for key in first.asset_selection)
    assert first.run_key == second.run_key  # Dagster launches one run per key

    instance.report_runless_asset_event(dg.AssetMaterialization(asset_key=ingestion_asset_key(FEEDS[0])))
    assert tick().run_key != first.run_key  # a new delivery: a new attempt
