"""Golden files: the Markdown receipt of every designed demo scenario, as a partner reads it.

The receipts come from the session demo (the real pipeline). Delivery ids and processing
times differ per run and are replaced by placeholders; everything else must match the file
under tests/golden/receipts/. After an intended change of wording, rewrite the files with
`DVCC_UPDATE_GOLDEN=1 pytest tests/test_receipts_golden.py` and review the diff.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import duckdb
import pytest

from dvcc_pipeline.demo.generator import _scenarios

GOLDEN = Path(__file__).parent / "golden" / "receipts"
_DELIVERY_ID = re.compile(r"\d{8}T\d{12}Z-[0-9a-f]{8}")
_PROCESSED_AT = re.compile(r"^- Verwerkt op: .*$", re.M)


def _normalised(text: str) -> str:
    return _PROCESSED_AT.sub("- Verwerkt op: <tijd>", _DELIVERY_ID.sub("<levering>", text))


def _receipt(home: Path, file_name: str, wave: int) -> tuple[Path, Path]:
    with duckdb.connect(str(home / "warehouse" / "dvcc.duckdb"), read_only=True) as conn:
        rows = conn.execute(
            "select feed, levering_id from raw.deliveries where bestandsnaam = ? order by verwerkt_op, levering_id",
            [file_name],
        ).fetchall()
    assert rows, file_name
    feed, delivery_id = rows[0] if wave == 1 else rows[-1]
    path = home / "receipts" / feed / f"{file_name}.{delivery_id}.json"
    return path.with_suffix(".md"), path


@pytest.mark.parametrize("scenario", _scenarios(), ids=lambda s: f"ronde{s.wave}-{s.file_name}")
def test_receipt_matches_its_golden_file(demo_home: Path, scenario) -> None:
    markdown, as_json = _receipt(demo_home, scenario.file_name, scenario.wave)
    text = _normalised(markdown.read_text(encoding="utf-8"))
    golden = GOLDEN / f"ronde{scenario.wave}_{scenario.file_name}.md"
    if os.environ.get("DVCC_UPDATE_GOLDEN") == "1":
        golden.parent.mkdir(parents=True, exist_ok=True)
        golden.write_text(text, encoding="utf-8")
    assert golden.is_file(), f"{golden} ontbreekt; maak hem met DVCC_UPDATE_GOLDEN=1"
    assert text == golden.read_text(encoding="utf-8")

    # What every receipt must hold, whatever the golden file says.
    data = json.loads(as_json.read_text(encoding="utf-8"))
    assert data["rijen_totaal"] == data["rijen_geaccepteerd"] + data["rijen_afgekeurd"]
    for key in ("archiefpad", "ontvangstbewijs"):
        assert data[key] is None or not Path(data[key]).is_absolute(), data[key]
    assert "## Wat nu?" in text
    assert "''" not in text and "en nog 1 rijen" not in text and "(?P<" not in text
    if data["status"] == "afgekeurd":
        stem, extension = scenario.file_name.rsplit(".", 1)
        version = data["versie"] or 1
        next_name = re.sub(r"_v\d+$", "", stem) + f"_v{version + 1}.{extension}"
        assert f"`{next_name}`" in text.split("## Wat nu?")[1]
