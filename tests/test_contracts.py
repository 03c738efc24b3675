"""Every contract is valid ODCS (JSON schema + pydantic model) and loads into a FeedContract."""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path

import jsonschema
import pytest
import yaml
from open_data_contract_standard.model import OpenDataContractStandard

from dvcc_pipeline.config import CONTRACTS_DIR, FEEDS, SEEDS_DIR
from dvcc_pipeline.contracts import (
    ContractError,
    check_identifier,
    compile_expression,
    contract_for_filename,
    load_contract,
    parse_contract,
)

SCHEMA = json.loads(resources.files("open_data_contract_standard").joinpath("schema.json").read_text())


def validator() -> jsonschema.protocols.Validator:
    cls = jsonschema.validators.validator_for(SCHEMA)
    return cls(SCHEMA)


@pytest.mark.parametrize("feed_id", FEEDS)
def test_contract_is_valid_odcs(feed_id: str) -> None:
    data = yaml.safe_load((CONTRACTS_DIR / f"{feed_id}.yaml").read_text())
    errors = [f"{list(e.absolute_path)}: {e.message}" for e in validator().iter_errors(data)]
    assert errors == []
    model = OpenDataContractStandard(**data)
    assert model.id == feed_id


def test_schema_validation_is_not_vacuous() -> None:
    data = yaml.safe_load((CONTRACTS_DIR / "politie_registraties.yaml").read_text())
    data["schema"][0]["properties"][0]["logicalType"] = "tekst"
    assert list(validator().iter_errors(data))


@pytest.mark.parametrize("feed_id", FEEDS)
def test_contract_holds_what_governance_requires(feed_id: str) -> None:
    contract = load_contract(feed_id)
    assert contract.feed_id == feed_id
    assert contract.version.count(".") == 2 and contract.status == "active"
    assert contract.legal_basis and contract.covenant["reference"]
    assert contract.invalid_row_threshold == 0.01
    assert contract.sla.due_days_after_period_end > 0 and contract.sla.retention_value > 0
    assert (contract.publication.min_cell_size, contract.publication.dominance_threshold) == (5, 0.85)
    assert {c.classification for c in contract.columns} <= {"public", "internal", "restricted"}
    assert "buiten_periode" in {r.code for r in contract.rules}
    assert contract.identify(contract.file.name_example) is not None
    for column in contract.columns:
        if column.reference:
            assert (SEEDS_DIR / f"{column.reference.seed}.csv").is_file()


def test_police_retention_is_five_years() -> None:
    from datetime import date

    sla = load_contract("politie_registraties").sla
    assert sla.retention_expires(date(2024, 9, 30)) == date(2029, 10, 1)


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("politie_registraties_2024Q3.csv", ("politie_registraties", "2024Q3", "politie", 1)),
        ("bank_INGB_2024-12_v3.csv", ("bank_fraudemeldingen", "2024-12", "INGB", 3)),
        ("fhd_meldingen_2024-07.xlsx", ("fraudehelpdesk_meldingen", "2024-07", "fraudehelpdesk", 1)),
        ("veiligheidsmonitor_2023.csv", ("veiligheidsmonitor", "2023", "cbs", 1)),
        ("programma_registraties_2025Q1_v2.csv", ("programma_registraties", "2025Q1", "programmabureau", 2)),
        ("politie_registraties_2024Q5.csv", None),
        ("bank_XXXX_2024-07.csv", None),
        ("bank_RABO_2024-13.csv", None),
        ("politie_registraties_2024Q3_v1.csv", None),
        ("politie_registraties_2024Q3.csv.part", None),
    ],
)
def test_contract_for_filename(name: str, expected) -> None:
    found = contract_for_filename(name)
    if expected is None:
        assert found is None
    else:
        contract, identity = found
        assert (contract.feed_id, identity.period, identity.supplier, identity.version) == expected


@pytest.mark.parametrize("name", ['a"b', "x; DROP TABLE y", "naam\n", "", "1abc", "a" * 80, "a  b"])
def test_identifier_whitelist_refuses(name: str) -> None:
    with pytest.raises(ContractError):
        check_identifier(name)


@pytest.mark.parametrize(
    "expression",
    [
        '"pleegdatum" <= "registratiedatum"; DROP TABLE raw.deliveries',
        '"pleegdatum" <= (SELECT max(x) FROM y)',
        '"onbekend" IS NULL',
        "$geheim = 1",
        "read_csv('/etc/passwd') IS NULL",
    ],
)
def test_rule_expressions_outside_the_whitelist_are_refused(expression: str) -> None:
    with pytest.raises(ContractError):
        compile_expression(expression, {"pleegdatum": "t1", "registratiedatum": "t2"}, "p")


def test_rule_literals_become_parameters() -> None:
    compiled = compile_expression("\"a\" <> 'it''s' OR \"b\" = $periode", {"a": "t0", "b": "t1"}, "r0_")
    assert compiled.sql == "(t0 <> $r0_0 OR t1 = $periode)"
    assert compiled.parameters == {"r0_0": "it's"}


def test_a_contract_with_an_unsafe_rule_does_not_load(tmp_path: Path) -> None:
    text = (CONTRACTS_DIR / "bank_fraudemeldingen.yaml").read_text()
    text = text.replace('"vergoed_bedrag" IS NULL OR', '"vergoed_bedrag" IS NULL; DELETE FROM x OR')
    path = tmp_path / "bank_fraudemeldingen.yaml"
    path.write_text(text)
    with pytest.raises(ContractError):
        parse_contract(path)
