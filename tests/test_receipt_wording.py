"""Receipt wording: values quoted once, Dutch singular/plural, the next name to deliver, the
file-name pattern in words, counts that add up, no server paths."""

from __future__ import annotations

from pathlib import Path

import pytest

from dvcc_pipeline.config import FEEDS
from dvcc_pipeline.contracts import load_contract
from dvcc_pipeline.ingestion import validate_file
from dvcc_pipeline.ingestion.receipt import (
    ACCEPTED_WITH_REJECTS,
    REJECTED,
    Problem,
    Receipt,
    plural,
    quoted,
    version_name,
)


def test_plural_and_quoting() -> None:
    assert plural(1, "rij", "rijen") == "1 rij"
    assert plural(2, "rij", "rijen") == "2 rijen"
    assert quoted("-250.00") == "'-250.00'"
    assert quoted("a\nb") == "'a b'"


@pytest.mark.parametrize(
    ("name", "version", "expected"),
    [
        ("politie_registraties_2024Q3.csv", 2, "politie_registraties_2024Q3_v2.csv"),
        ("bank_KNAB_2025-02_v2.csv", 3, "bank_KNAB_2025-02_v3.csv"),
        ("fhd_meldingen_2024-07.xlsx", 2, "fhd_meldingen_2024-07_v2.xlsx"),
    ],
)
def test_version_name(name: str, version: int, expected: str) -> None:
    assert version_name(name, version) == expected


@pytest.mark.parametrize("feed_id", FEEDS)
def test_name_pattern_in_words_never_a_regex(feed_id: str) -> None:
    contract = load_contract(feed_id)
    words = contract.name_in_words()
    assert contract.file.name_example in words
    for regex_part in ("(?P<", "[0-9]", "\\.", "^", "$"):
        assert regex_part not in words, (feed_id, words)
    assert "_v2" in words


def test_bank_name_lists_the_supplier_codes() -> None:
    words = load_contract("bank_fraudemeldingen").name_in_words()
    assert "de code van de leverancier (ABNA, INGB, RABO" in words
    assert "het jaar en de maand (zoals `2024-07`)" in words


def test_rejected_receipt_names_the_next_delivery() -> None:
    receipt = Receipt("id", "politie_registraties", "politie_registraties_2024Q3_v2.csv", version=2, status=REJECTED)
    receipt.rows_total = receipt.rows_rejected = 60
    receipt.problems = [Problem("scheidingsteken", None, "verkeerd scheidingsteken")]
    text = receipt.to_markdown()
    assert "`politie_registraties_2024Q3_v3.csv`" in text.split("## Wat nu?")[1]
    assert "60 totaal, 0 geaccepteerd, 60 afgekeurd (het hele bestand)" in text
    assert "| hele bestand |" in text and "| 0 |" not in text


def test_accepted_with_rejects_explains_the_correction() -> None:
    receipt = Receipt("id", "politie_registraties", "politie_registraties_2024Q3.csv", version=1)
    receipt.status = ACCEPTED_WITH_REJECTS
    text = receipt.to_markdown()
    assert "`politie_registraties_2024Q3_v2.csv`: die versie vervangt deze levering volledig" in text


def test_json_paths_are_relative_to_dvcc_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DVCC_HOME", str(tmp_path))
    receipt = Receipt("id", "politie_registraties", "x.csv")
    receipt.archive_path = tmp_path / "archive" / "politie_registraties" / "2024Q3" / "id__x.csv"
    receipt.receipt_path = tmp_path / "receipts" / "politie_registraties" / "x.csv.id.json"
    data = receipt.to_dict()
    assert data["archiefpad"] == "archive/politie_registraties/2024Q3/id__x.csv"
    assert data["ontvangstbewijs"] == "receipts/politie_registraties/x.csv.id.json"
    receipt.archive_path = Path("/elders/geheim/x.csv")
    assert receipt.to_dict()["archiefpad"] == "x.csv"


def test_unknown_name_is_explained_in_words(tmp_path: Path) -> None:
    path = tmp_path / "politie_2024.csv"
    path.write_text("a\n1\n", encoding="utf-8")
    receipt = validate_file(path, "politie_registraties")
    message = receipt.problems[0].message
    assert "bijvoorbeeld `politie_registraties_2024Q3.csv`" in message
    assert "(?P<" not in message
    assert "Geef het bestand een naam" not in receipt.to_markdown() or receipt.version is None


def test_missing_values_show_a_plain_dash() -> None:
    text = Receipt(None, None, "onzin.txt").to_markdown()
    assert "leverancier: -," in text and "Contractversie: -" in text and "'-" not in text
