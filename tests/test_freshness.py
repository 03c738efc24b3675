"""Freshness: which (supplier, period) deliveries are overdue by the contract's SLA, and the check in Dagster."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import dagster as dg
import duckdb
import pytest
from test_ingestion_samples import BANK, POLICE, VM, bank_rows, csv_bytes, header, write_police

from dvcc_pipeline.config import get_settings
from dvcc_pipeline.contracts import load_contract, load_partners
from dvcc_pipeline.ingestion import ingest_delivery
from dvcc_pipeline.ingestion.assets import INGESTION_ASSETS, ingestion_asset_key
from dvcc_pipeline.ingestion.freshness import (
    FRESHNESS_CHECKS,
    FRESHNESS_JOB,
    FRESHNESS_SCHEDULE,
    due_date,
    overdue_periods,
)
from dvcc_pipeline.runtime.warehouse import WarehouseResource


def overdue(feed_id: str, delivered: set[tuple[str, str]], today: date) -> list[tuple[str, str, int]]:
    return [(o.supplier, o.period, o.days_overdue) for o in overdue_periods(load_contract(feed_id), delivered, today)]


def test_due_date_is_period_end_plus_contract_days() -> None:
    police = load_contract(POLICE)
    assert due_date(police, "2024Q2") == date(2024, 6, 30) + timedelta(days=police.sla.due_days_after_period_end)
    assert due_date(police, "2024-06") is None


def test_quarter_due_yesterday_is_overdue_due_tomorrow_is_not() -> None:
    police = load_contract(POLICE)
    supplier = police.default_supplier
    delivered = {(supplier, "2024Q1")}
    q2_due = date(2024, 6, 30) + timedelta(days=police.sla.due_days_after_period_end)
    assert overdue(POLICE, delivered, q2_due + timedelta(days=1)) == [(supplier, "2024Q2", 1)]
    assert overdue(POLICE, delivered, q2_due) == []  # due today: still on time
    assert overdue(POLICE, delivered, q2_due - timedelta(days=1)) == []
    assert overdue(POLICE, delivered | {(supplier, "2024Q2")}, q2_due + timedelta(days=1)) == []


def test_gap_before_a_later_delivery_stays_overdue() -> None:
    police = load_contract(POLICE)
    supplier = police.default_supplier
    q4_due = date(2024, 12, 31) + timedelta(days=police.sla.due_days_after_period_end)
    today = q4_due + timedelta(days=10)
    found = overdue(POLICE, {(supplier, "2024Q1"), (supplier, "2024Q3")}, today)
    q2_late = (today - date(2024, 6, 30)).days - police.sla.due_days_after_period_end
    assert found == [(supplier, "2024Q2", q2_late), (supplier, "2024Q4", 10)]


def test_bank_is_expected_per_bank_from_its_first_month() -> None:
    bank = load_contract(BANK)
    march_due = date(2024, 3, 31) + timedelta(days=bank.sla.due_days_after_period_end)
    delivered = {("RABO", "2024-01"), ("RABO", "2024-02"), ("RABO", "2024-03"), ("INGB", "2024-02")}
    # INGB joined in February: not asked for January, but March is missing.
    assert overdue(BANK, delivered, march_due + timedelta(days=3)) == [("INGB", "2024-03", 3)]
    # A month later April is overdue for both banks.
    april_due = date(2024, 4, 30) + timedelta(days=bank.sla.due_days_after_period_end)
    later = overdue(BANK, delivered, april_due + timedelta(days=1))
    assert later == [
        ("INGB", "2024-03", (april_due - march_due).days + 1),
        ("INGB", "2024-04", 1),
        ("RABO", "2024-04", 1),
    ]


def test_biennial_feed_only_expects_every_other_year() -> None:
    vm = load_contract(VM)
    supplier = vm.default_supplier
    due_2025 = date(2025, 12, 31) + timedelta(days=vm.sla.due_days_after_period_end)
    delivered = {(supplier, "2021"), (supplier, "2023")}
    assert overdue(VM, delivered, due_2025) == []
    assert overdue(VM, delivered, due_2025 + timedelta(days=5)) == [(supplier, "2025", 5)]


def test_a_feed_that_never_delivered_expects_nothing() -> None:
    assert overdue(BANK, set(), date(2030, 1, 1)) == []


def test_one_check_per_feed_on_the_ingestion_asset() -> None:
    keys = {key for check in FRESHNESS_CHECKS for key in check.check_keys}
    assert keys == {dg.AssetCheckKey(ingestion_asset_key(f), "tijdige_levering") for f in INGESTION_ASSETS}
    assert FRESHNESS_SCHEDULE.job_name == FRESHNESS_JOB.name == "versheid_controleren"


def run_checks() -> dict[str, dg.AssetCheckEvaluation]:
    defs = dg.Definitions(
        assets=list(INGESTION_ASSETS.values()),
        asset_checks=FRESHNESS_CHECKS,
        jobs=[FRESHNESS_JOB],
        resources={"warehouse": WarehouseResource()},
    )
    result = defs.resolve_job_def(FRESHNESS_JOB.name).execute_in_process(instance=dg.DagsterInstance.ephemeral())
    assert result.success
    return {e.asset_key.path[-1]: e for e in result.get_asset_check_evaluations()}


def test_check_warns_on_overdue_periods_from_the_ledger(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DVCC_HOME", str(tmp_path / "home"))
    settings = get_settings()
    settings.ensure_dirs(load_partners())
    conn = duckdb.connect(str(settings.warehouse_path))
    police = ingest_delivery(settings, conn, write_police(settings.landing_for(POLICE)))
    wrong = settings.landing_for(BANK) / "bank_RABO_2024-07.csv"
    wrong.write_bytes(csv_bytes(header(BANK), bank_rows(), delimiter=",", bom=True, crlf=True))
    rejected = ingest_delivery(settings, conn, wrong)
    conn.close()
    assert (police.status, rejected.status) == ("geaccepteerd", "afgekeurd")

    evaluations = run_checks()
    assert set(evaluations) == set(INGESTION_ASSETS)
    late = evaluations[POLICE]
    assert not late.passed and late.severity == dg.AssetCheckSeverity.WARN
    details = late.metadata["details"].value
    assert "| 2024Q4 |" in details and "| 2024Q3 |" not in details
    assert late.metadata["te_late_leveringen"].value >= 1
    # A rejected delivery does not count as delivered, nor does it make the bank expected.
    assert evaluations[BANK].passed
    assert evaluations[BANK].metadata["leveranciers"].value == 0


def test_check_passes_without_a_warehouse_and_creates_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    home = tmp_path / "home"
    monkeypatch.setenv("DVCC_HOME", str(home))
    evaluations = run_checks()
    assert all(e.passed for e in evaluations.values())
    assert not home.exists()


def test_a_reference_date_counts_lateness_on_the_data_clock(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A home with data from the past (the demo) counts from its own peildatum, and says so."""
    monkeypatch.setenv("DVCC_HOME", str(tmp_path / "home"))
    settings = get_settings()
    settings.ensure_dirs(load_partners())
    conn = duckdb.connect(str(settings.warehouse_path))
    ingest_delivery(settings, conn, write_police(settings.landing_for(POLICE)))  # 2024Q3
    conn.close()
    police = load_contract(POLICE)
    q3_due = due_date(police, "2024Q3")
    (settings.home / "peildatum.txt").write_text(f"{q3_due.isoformat()}\n", encoding="utf-8")
    on_time = run_checks()[POLICE]
    assert on_time.passed, on_time.metadata["details"].value
    assert on_time.metadata["geteld_vanaf"].value == f"peildatum {q3_due.isoformat()} uit peildatum.txt in DVCC_HOME"

    q4_late = due_date(police, "2024Q4") + timedelta(days=3)
    monkeypatch.setenv("DVCC_REFERENCE_DATE", q4_late.isoformat())  # the environment wins over the file
    late = run_checks()[POLICE]
    assert not late.passed and late.metadata["meeste_dagen_te_laat"].value == 3
    assert "DVCC_REFERENCE_DATE" in late.metadata["geteld_vanaf"].value


def test_the_demo_clock_leaves_no_demo_period_overdue() -> None:
    from dvcc_pipeline.demo import calibration
    from dvcc_pipeline.demo.generator import demo_reference_date

    today = demo_reference_date()
    assert today.year == max(calibration.YEARS) + 1
    for feed_id in INGESTION_ASSETS:
        contract = load_contract(feed_id)
        supplier = contract.default_supplier or "X"
        grain = contract.file.period_grain
        periods = (
            [f"{y}Q{q}" for y in calibration.YEARS for q in range(1, 5)]
            if grain == "quarter"
            else [f"{y}-{m:02d}" for y in calibration.YEARS for m in range(1, 13)]
            if grain == "month"
            else [str(y) for y in calibration.VM_YEARS]
        )
        assert overdue(feed_id, {(supplier, p) for p in periods}, today) == [], feed_id
