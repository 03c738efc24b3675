"""docs/consumers.md: the data dictionary equals what the published contract generates."""

from __future__ import annotations

from pathlib import Path

import yaml

from dvcc_pipeline.publication.contract import PUBLISHED_CONTRACT_PATH, load_published_contract
from dvcc_pipeline.publication.dictionary import BEGIN, CONSUMERS_DOC, END, generate, render


def test_dictionary_in_the_docs_is_generated_from_the_contract() -> None:
    document = CONSUMERS_DOC.read_text(encoding="utf-8")
    assert render(document, generate()) == document, (
        "docs/consumers.md loopt achter op published.yaml: python -m dvcc_pipeline.publication.dictionary"
    )
    contract = load_published_contract()
    for table in contract.tables:
        assert f"### {table.name}\n" in document
    assert f"DuckDB ≥ {contract.minimum_reader_version}" in document


def test_a_new_table_in_the_contract_appears_after_regeneration(tmp_path: Path) -> None:
    raw = yaml.safe_load(PUBLISHED_CONTRACT_PATH.read_text(encoding="utf-8"))
    raw["schema"].append(
        {
            "name": "ind_nieuw",
            "physicalName": "ind_nieuw",
            "physicalType": "table",
            "logicalType": "object",
            "description": "Een nieuwe tabel.",
            "properties": [
                {
                    "name": "jaar",
                    "physicalType": "INTEGER",
                    "logicalType": "integer",
                    "required": True,
                    "primaryKey": True,
                    "primaryKeyPosition": 1,
                    "description": "Het jaar van de nieuwe tabel.",
                },
            ],
        }
    )
    changed = tmp_path / "published.yaml"
    changed.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    dictionary = generate(changed)
    assert "### ind_nieuw\n" in dictionary
    assert "| jaar | INTEGER | sleutel 1 | Het jaar van de nieuwe tabel. |" in dictionary
    document = f"intro\n{BEGIN}\noud\n{END}\nslot\n"
    assert render(document, dictionary) == f"intro\n{BEGIN}\n{dictionary}{END}\nslot\n"
