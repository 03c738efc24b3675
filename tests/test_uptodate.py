"""The one-line answer of `dvcc run` with nothing to do must not overlook a delivery in a box."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from dvcc_pipeline.config import FEEDS, get_settings
from dvcc_pipeline.contracts import load_partners
from dvcc_pipeline.operations.uptodate import drops_are_empty


def test_drops_are_empty_looks_in_landing_and_in_every_box(tmp_path: Path) -> None:
    settings = dataclasses.replace(get_settings(), home=tmp_path)
    settings.ensure_dirs(load_partners())
    assert drops_are_empty(settings)

    in_box = settings.box_in("bank_ABNA") / "bank_ABNA_2025-01.csv"
    in_box.write_text("x\n", encoding="utf-8")
    assert not drops_are_empty(settings), "a file in a partner's in/ box is work to do"
    in_box.unlink()

    stray = settings.partners_dir / "onbekende_partner" / "bestand.csv"
    stray.parent.mkdir()
    stray.write_text("x\n", encoding="utf-8")
    assert not drops_are_empty(settings), "an unknown folder under partners/ is quarantined by a run"
    stray.unlink()
    assert drops_are_empty(settings)

    (settings.landing_for(FEEDS[0]) / "politie_registraties_2025Q1.csv").write_text("x\n", encoding="utf-8")
    assert not drops_are_empty(settings)


def test_an_upload_still_being_written_leaves_the_fast_path_open(tmp_path: Path) -> None:
    """The door leaves `.part`, `.tmp` and dot names alone, so they alone are no work to do."""
    settings = dataclasses.replace(get_settings(), home=tmp_path)
    settings.ensure_dirs(load_partners())
    (settings.landing_for(FEEDS[0]) / "politie_registraties_2025Q1.csv.part").write_text("x\n", encoding="utf-8")
    (settings.box_in("bank_ABNA") / "bank_ABNA_2025-01.csv.tmp").write_text("x\n", encoding="utf-8")
    (settings.landing_dir / ".upload-123").write_text("x\n", encoding="utf-8")
    assert drops_are_empty(settings)
    (settings.landing_for(FEEDS[0]) / "politie_registraties_2025Q1.csv").write_text("x\n", encoding="utf-8")
    assert not drops_are_empty(settings)
