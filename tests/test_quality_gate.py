"""The quality gate: GX suites on good and bad marts, and a failing check stopping publication."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import duckdb
import pytest
from test_publication_support import build_warehouse

from dvcc_pipeline.config import get_settings
from dvcc_pipeline.orchestration.jobs import PROCESSING_JOB
from dvcc_pipeline.publication.assets import EXTRACTS_KEY, MART_KEYS, PUBLICATION_ASSETS, PUBLISHED_KEY
from dvcc_pipeline.publication.contract import load_published_contract
from dvcc_pipeline.quality.checks import QUALITY_CHECKS, SUITES
from dvcc_pipeline.quality.gate import break_mart, publication_state, run_gate_and_publication
from dvcc_pipeline.quality.runner import run_suites
from dvcc_pipeline.quality.suites import all_suites
from dvcc_pipeline.transformation.project import mart_asset_key


@pytest.fixture()
def settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("DVCC_HOME", str(tmp_path / "home"))
    settings = get_settings()
    build_warehouse(settings.warehouse_path)
    return settings


def _by_name(outcomes):
    return {(o.suite.asset, o.suite.check): o for o in outcomes}


def test_every_suite_passes_on_good_marts(settings) -> None:
    # the interval audit blocks by default
    assert next(s for s in SUITES if s.check == "intervalaudit").blocking
    outcomes = run_suites(all_suites(load_published_contract()), settings.warehouse_path)
    assert [(o.suite.asset, o.suite.check, o.failures) for o in outcomes if not o.passed] == []
    assert all(o.rows_checked > 0 for o in outcomes)
    marts = load_published_contract().mart_tables
    # structure per mart, rounding per mart with counts, two cross-table checks, the interval
    # audit over all tables together and two warnings
    assert len(outcomes) == len(marts) + sum(t.disclosure is not None for t in marts) + 5
    audit = next(o for o in outcomes if o.suite.check == "intervalaudit")
    assert audit.suite.blocking and audit.passed


def test_suites_fail_on_bad_marts_and_name_the_rows(settings) -> None:
    with duckdb.connect(str(settings.warehouse_path)) as conn:
        conn.execute("UPDATE marts.ind_dark_number SET aangiftebereidheid_pct = 150 WHERE regio_code = 'GM0034'")
        conn.execute("DELETE FROM marts.ind_delictsvormen_jaar WHERE regio_code = 'GM0995' AND jaar = 2024")
        conn.execute("DELETE FROM raw.politie_registraties WHERE _periode = '2023Q2' AND registratie_id < 'M000900'")
        conn.execute(
            "UPDATE marts.ind_trend_jaar SET verandering_pct = 300 WHERE regio_niveau = 'eenheid' AND jaar = 2024"
        )
    outcomes = _by_name(run_suites(SUITES, settings.warehouse_path))

    pct = outcomes[("ind_dark_number", "structuur")]
    assert not pct.passed
    assert {r["regio_code"] for r in pct.failures} == {"GM0034"}
    assert {r["aangiftebereidheid_pct"] for r in pct.failures} == {150.0}

    missing = outcomes[("ind_delictsvormen_jaar", "volledigheid")]
    assert not missing.passed
    assert [(r["jaar"], r["gemeentecode"]) for r in missing.failures] == [(2024, "GM0995")]

    totals = outcomes[("fct_meldingen_kwartaal", "aansluiting_ruwe_laag")]
    assert not totals.passed and [r["jaar"] for r in totals.failures] == [2023]

    warning = outcomes[("ind_trend_jaar", "plausibele_verandering")]
    assert not warning.passed and not warning.suite.blocking
    assert outcomes[("fct_meldingen_kwartaal", "structuur")].passed


def _stub_marts() -> list[dg.AssetsDefinition]:
    """Stand-ins for the dbt marts: the tables already exist in the synthetic warehouse."""

    @dg.multi_asset(specs=[dg.AssetSpec(key) for key in MART_KEYS], name="marts")
    def marts():
        for key in MART_KEYS:
            yield dg.MaterializeResult(asset_key=key)

    return [marts]


def test_failing_blocking_check_stops_publication_and_keeps_the_last_good_file(settings) -> None:
    defs = dg.Definitions(
        assets=[*_stub_marts(), *PUBLICATION_ASSETS], asset_checks=QUALITY_CHECKS, jobs=[PROCESSING_JOB]
    )
    instance = dg.DagsterInstance.ephemeral()
    good = defs.resolve_job_def("verwerking").execute_in_process(instance=instance)
    assert good.success
    state = publication_state(settings)
    assert state.publications == 1
    materialized = {e.asset_key for e in good.get_asset_materialization_events()}
    assert {PUBLISHED_KEY, EXTRACTS_KEY} <= materialized
    published_meta = next(
        e.materialization.metadata for e in good.get_asset_materialization_events() if e.asset_key == PUBLISHED_KEY
    )
    assert "phishing" in published_meta["overzicht_eenheid"].value
    assert published_meta["rijen_per_tabel"].value["ind_delictsvormen_jaar"] > 0

    break_mart(settings, "ind_delictsvormen_jaar")
    bad = run_gate_and_publication(defs, instance)
    assert not bad.success
    assert PUBLISHED_KEY not in {e.asset_key for e in bad.get_asset_materialization_events()}
    assert publication_state(settings) == state
    failed = [
        e.event_specific_data
        for e in bad.all_events
        if e.event_type_value == "ASSET_CHECK_EVALUATION" and not e.event_specific_data.passed
    ]
    blocking = [f for f in failed if f.severity == dg.AssetCheckSeverity.ERROR]
    # the duplicated row also breaks the additive identities: the (blocking) interval audit says so
    assert {(f.asset_check_key.asset_key, f.asset_check_key.name) for f in blocking} == {
        (mart_asset_key("ind_delictsvormen_jaar"), "structuur"),
        (mart_asset_key("ind_totalen"), "intervalaudit"),
    }
    blocking = [f for f in blocking if f.asset_check_key.name == "structuur"]
    assert any("compound_columns_to_be_unique" in v for v in blocking[0].metadata["mislukte_verwachtingen"].value)
    assert "|" in blocking[0].metadata["afwijkende_rijen"].value
