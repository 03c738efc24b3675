"""The one-line answer of `dvcc run` with nothing to do must not overlook a delivery in a box."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from dvcc_pipeline.config import FEEDS, get_settings
from dvcc_pipeline.contracts import load_partners
from dvcc_pipeline.uptodate import drops_are_empty


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
