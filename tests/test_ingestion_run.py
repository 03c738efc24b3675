"""`dvcc run` takes in every feed in one Dagster run: one step per feed with new files, and
per delivery period a materialization of that partition, as the UI shows a feed's periods."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import dagster as dg
import pytest

from dvcc_pipeline.config import FEEDS, get_settings
from dvcc_pipeline.contracts import load_partners
from dvcc_pipeline.demo import generate
from dvcc_pipeline.ingestion import scan_landing, settle
from dvcc_pipeline.ingestion.assets import PARTITIONS, ingestion_asset_key
from dvcc_pipeline.operations.progress import Silent

BANK = "bank_fraudemeldingen"
POLICE = "politie_registraties"
_PICKED = {
    BANK: ["bank_ABNA_2024-04.csv", "bank_INGB_2024-04.csv", "bank_ABNA_2024-05.csv", "bank_KNAB_2025-02.csv"],
    POLICE: ["politie_registraties_2024Q1.csv"],
}


def test_one_run_takes_in_every_feed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    os.environ.setdefault("DVCC_HOME", str(tmp_path / "import_home"))
    from dvcc_pipeline.definitions import defs
    from dvcc_pipeline.operations.headless import ingest_landing

    source = tmp_path / "bron"
    generate(source, scale=0.02, seed=2025)
    monkeypatch.setenv("DVCC_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("DVCC_SETTLE_SECONDS", "0")
    settings = get_settings()
    settings.ensure_dirs(load_partners())
    for feed_id, names in _PICKED.items():
        for name in names:
            shutil.copy2(source / "landing" / feed_id / name, settings.landing_for(feed_id) / name)
    (settings.landing_for(BANK) / "notities.txt").write_text("geen levering\n", encoding="utf-8")
    scans = {feed_id: scan_landing(settings, feed_id) for feed_id in FEEDS}
    stable = settle([p for s in scans.values() for p in (*(d.path for d in s.deliveries), *s.strays)], 0)

    with dg.instance_for_test() as instance:
        result = ingest_landing(settings, defs, instance, scans, stable, Silent())
        assert result is not None and result.success
        assert [run.job_name for run in instance.get_runs()] == ["ingestie"]
        steps = {event.step_key for event in result.all_events if event.is_step_success}
        assert steps == {"inname_bank_fraudemeldingen", "inname_politie_registraties"}
        materialized = sorted(
            (event.asset_key.path[-1], event.partition) for event in result.all_events if event.is_step_materialization
        )
        assert materialized == [(BANK, "2024-04"), (BANK, "2024-05"), (BANK, "2025-02"), (POLICE, "2024Q1")]
        assert instance.get_materialized_partitions(ingestion_asset_key(BANK)) == {"2024-04", "2024-05", "2025-02"}
        assert set(instance.get_dynamic_partitions(PARTITIONS[BANK].name)) == {"2024-04", "2024-05", "2025-02"}
        april = instance.fetch_materializations(
            dg.AssetRecordsFilter(asset_key=ingestion_asset_key(BANK), asset_partitions=["2024-04"]), limit=1
        ).records[0]
        assert april.asset_materialization.metadata["rijen_afgekeurd"].value == 0
        checks = [e.event_specific_data for e in result.all_events if e.event_type_value == "ASSET_CHECK_EVALUATION"]
        verdicts = {c.asset_key.path[-1]: c.passed for c in checks}
        assert verdicts == {BANK: False, POLICE: True}  # KNAB 2025-02 has the wrong delimiter
        logs = [e.user_message for e in instance.all_logs(result.run_id) if e.dagster_event is None]
        assert "bank_fraudemeldingen: 4 van 4 bestanden ingenomen" in logs
    assert any(p.name.endswith("notities.txt") for p in (settings.quarantine_dir / BANK).iterdir())
    assert len(list((settings.home / "receipts").rglob("*.json"))) == 6
