"""Incremental dbt runs give the same marts as a rebuild from scratch.

On the handcrafted raw layer of test_dbt_project: build once, then change raw the way
ingestion and retention do (a correction replaces a period under a new levering_id, a new
delivery arrives, retention deletes an expired period), run an incremental `dbt build`, and
compare every mart and row-level model with `dbt build --full-refresh` of the same state.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest
from dbt.cli.main import dbtRunnerResult
from test_dbt_project import build_raw_layer, invoke_dbt

from dvcc_pipeline.config import get_settings

ROW_LEVEL_MODELS = ("int_politie_registraties", "int_bank_meldingen", "int_fraudehelpdesk_meldingen", "int_meldingen")
CORRECTED = "L-P-2024Q2-v2"
NEW = "L-B-2024-02"
EXPIRED = "L-P-2023Q1"
# dbt tests run once, on the incremental build; test_dbt_project runs them on a full build
NO_TESTS = ("--exclude-resource-type", "test", "--exclude-resource-type", "unit_test")


def _dbt(home: Path, *args: str) -> dbtRunnerResult:
    result, failures = invoke_dbt(home, *args)
    assert result.success, "\n".join(failures) or str(result.exception)
    return result


def _new_deliveries(path: Path) -> None:
    """What ingestion and retention do between two runs, straight on the raw layer."""
    con = duckdb.connect(str(path))
    try:
        # correction v2 of 2024Q2: P08 now online-labelled fraud with damage, P09 dropped, P13 added
        con.execute(
            "insert into raw.deliveries select * replace ($new as levering_id, 2 as versie,"
            " 'geaccepteerd' as status) from raw.deliveries where levering_id = 'L-P-2024Q2'",
            {"new": CORRECTED},
        )
        con.execute(
            "update raw.deliveries set status = 'vervangen', vervangen_door = $new where levering_id = 'L-P-2024Q2'",
            {"new": CORRECTED},
        )
        con.execute(
            f"""
            create temp table v2 as select * from raw.politie_registraties where _periode = '2024Q2';
            update v2 set _levering_id = '{CORRECTED}';
            update v2 set maatschappelijke_klasse = 'F600', online_kenmerk = 'gedigitaliseerd',
                          modus_operandi = 'marktplaats', soort_registratie = 'aangifte',
                          schadebedrag_eur = 250 where registratie_id = 'P08';
            delete from v2 where registratie_id = 'P09';
            insert into v2 select * replace ('P13' as registratie_id, date '2024-06-20' as registratiedatum)
                from v2 where registratie_id = 'P10';
            delete from raw.politie_registraties where _periode = '2024Q2';
            insert into raw.politie_registraties select * from v2;
            """
        )
        # a new bank month
        con.execute(
            "insert into raw.deliveries select * replace ($new as levering_id, '2024-02' as periode)"
            " from raw.deliveries where levering_id = 'L-B-2024-01'",
            {"new": NEW},
        )
        con.execute(
            "insert into raw.bank_fraudemeldingen select * replace ('ABNA-0003' as melding_id,"
            " date '2024-02-14' as meldingsdatum, $new as _levering_id, '2024-02' as _periode)"
            " from raw.bank_fraudemeldingen where melding_id = 'ABNA-0001'",
            {"new": NEW},
        )
        # retention: an expired period's rows go, its ledger entry stays
        con.execute("delete from raw.politie_registraties where _levering_id = $id", {"id": EXPIRED})
    finally:
        con.close()


@dataclass(frozen=True)
class Builds:
    incremental: Path
    full_refresh: Path
    compiled: dict[str, str]


@pytest.fixture(scope="module")
def builds(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Builds]:
    """Three dbt invocations: initial build, incremental build (with tests), full refresh of the same state."""
    home = tmp_path_factory.mktemp("dvcc_home_inc")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("DVCC_HOME", str(home))
        settings = get_settings()
        settings.warehouse_dir.mkdir(parents=True, exist_ok=True)
        warehouse = settings.warehouse_path
        build_raw_layer(warehouse)
        mp.setenv("DVCC_WAREHOUSE_PATH", str(warehouse))
        _dbt(home, "build", *NO_TESTS)
        _new_deliveries(warehouse)
        result = _dbt(home, "build")
        compiled = {r.node.name: r.node.compiled_code for r in result.result if r.node.name in ROW_LEVEL_MODELS}
        # keep the incremental state; the same warehouse path for both builds lets dbt parse
        # partially. dbt keeps its DuckDB instance open in this process, so share it.
        con = duckdb.connect(str(warehouse))
        con.execute("checkpoint")
        con.close()
        incremental = home / "incremental.duckdb"
        shutil.copyfile(warehouse, incremental)
        _dbt(home, "build", "--full-refresh", *NO_TESTS)
    yield Builds(incremental, warehouse, compiled)


@contextmanager
def _both(builds: Builds) -> Iterator[duckdb.DuckDBPyConnection]:
    """The full-refresh warehouse (dbt's open instance) with the incremental copy as `inc`."""
    con = duckdb.connect(str(builds.full_refresh))
    con.execute(f"attach '{builds.incremental}' as inc (read_only)")
    try:
        yield con
    finally:
        con.execute("detach inc")
        con.close()


def _tables(con: duckdb.DuckDBPyConnection, schema: str) -> list[str]:
    return [
        r[0]
        for r in con.execute(
            "select table_name from information_schema.tables where table_catalog = 'inc'"
            " and table_schema = $s order by 1",
            {"s": schema},
        ).fetchall()
    ]


def test_incremental_equals_full_refresh(builds: Builds) -> None:
    with _both(builds) as con:
        marts = _tables(con, "marts")
        assert "ind_delictsvormen_jaar" in marts and len(marts) >= 9
        relations = [f"marts.{t}" for t in marts] + [f"intermediate.{m}" for m in ROW_LEVEL_MODELS]
        differences = {}
        for rel in relations:
            only_inc, only_fr, rows = con.execute(
                f"""select
                    (select count(*) from (from inc.{rel} except all from {rel})),
                    (select count(*) from (from {rel} except all from inc.{rel})),
                    (select count(*) from {rel})"""
            ).fetchone()
            assert rows > 0, rel
            if only_inc or only_fr:
                differences[rel] = (only_inc, only_fr)
        assert differences == {}


def test_incremental_run_applied_the_changes(builds: Builds) -> None:
    with _both(builds) as con:
        leveringen = dict(
            con.execute("select levering_id, count(*) from inc.intermediate.int_meldingen group by all").fetchall()
        )
        # the correction's rows (P08, P10, P13), the new month; not the replaced or expired ones
        assert leveringen[CORRECTED] == 3
        assert leveringen[NEW] == 1
        assert "L-P-2024Q2" not in leveringen and EXPIRED not in leveringen
        p08 = con.execute(
            "select soort, delictsvorm, schadebedrag_eur from inc.intermediate.int_meldingen where melding_id = 'P08'"
        ).fetchone()
        assert (p08[0], p08[1], float(p08[2])) == ("aangifte", "aan_en_verkoopfraude", 250.0)


def test_incremental_run_selected_only_new_deliveries(builds: Builds) -> None:
    # each row-level model read only the deliveries it did not hold yet
    assert set(builds.compiled) == set(ROW_LEVEL_MODELS)
    for model, sql in builds.compiled.items():
        own = rf'"intermediate"\."{model}"'
        assert re.search(rf"levering_id not in \(select levering_id from \S*{own}\)", " ".join(sql.split())), model
