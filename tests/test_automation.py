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


@dg.op
def controle() -> None:
    raise dg.Failure("blokkerende controle mislukt")


@dg.job
def verwerking_met_fout() -> None:
    controle()


def test_a_used_run_key_says_which_run_and_what_happens_next(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """On the instance `dvcc` writes: a run whose step failed is not retried (the same data would
    fail again), one whose process died is; each tick on the used key says so in Dutch."""
    os.environ.setdefault("DVCC_HOME", str(tmp_path / "import_home"))
    from dvcc_pipeline.definitions import defs
    from dvcc_pipeline.operations.instance import prepare_instance
    from dvcc_pipeline.orchestration.automation import KEY_TAG

    monkeypatch.setenv("DVCC_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("DVCC_SETTLE_SECONDS", "0")
    prepare_instance(get_settings())
    repository = defs.get_repository_def()
    sensor = repository.get_sensor_def("verwerking_na_ingestie")
    with dg.DagsterInstance.from_config(str(get_settings().dagster_home)) as instance:
        assert instance.run_retries_enabled and instance.run_retries_max_retries >= 1
        assert not instance.run_retries_retry_on_asset_or_op_failure

        def tick():
            return sensor(dg.build_sensor_context(instance=instance, repository_def=repository))

        for feed_id in FEEDS:
            instance.report_runless_asset_event(dg.AssetMaterialization(asset_key=ingestion_asset_key(feed_id)))
        request = tick()
        assert isinstance(request, dg.RunRequest) and request.tags[KEY_TAG] == request.run_key

        failed = verwerking_met_fout.execute_in_process(
            instance=instance, tags={KEY_TAG: request.run_key}, raise_on_error=False
        )
        assert instance.get_run_by_id(failed.run_id).tags.get("dagster/will_retry") == "false"
        data_failure = tick()
        assert isinstance(data_failure, dg.SkipReason)
        assert f"(run {failed.run_id}) mislukte in controle" in data_failure.skip_message
        assert "Niet opnieuw geprobeerd met dezelfde gegevens" in data_failure.skip_message

        died = instance.create_run_for_job(verwerking_met_fout, tags={KEY_TAG: request.run_key})
        instance.report_run_failed(died, "Het proces van deze run bestaat niet meer; run afgebroken.")
        assert instance.get_run_by_id(died.run_id).tags.get("dagster/will_retry") == "true"
        process_gone = tick()
        assert isinstance(process_gone, dg.SkipReason)
        assert f"(run {died.run_id}) stopte zonder dat een stap mislukte" in process_gone.skip_message
        assert "Dagster herhaalt zo'n run zelf" in process_gone.skip_message
