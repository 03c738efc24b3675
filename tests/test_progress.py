"""Progress output: plain lines off a terminal, a live bar on one; stage names from step keys."""

from __future__ import annotations

import io
import re

from dvcc_pipeline.operations.headless import step_stage
from dvcc_pipeline.operations.progress import Progress, seconds_text


def test_plain_lines_show_start_files_and_end_with_elapsed_time() -> None:
    out = io.StringIO()
    progress = Progress(out)
    assert not progress.live  # a StringIO is no terminal
    progress.start("inname bank_fraudemeldingen", total=3)
    progress.advance("inname bank_fraudemeldingen", 1)
    progress.advance("inname bank_fraudemeldingen")
    progress.advance("inname bank_fraudemeldingen", 3)
    progress.end("inname bank_fraudemeldingen")
    with progress.stage("publicatie"):
        pass
    lines = out.getvalue().splitlines()
    assert lines[0] == "▶ inname bank_fraudemeldingen (0/3 bestanden)"
    assert lines[1:4] == [f"  inname bank_fraudemeldingen: {n}/3 bestanden" for n in (1, 2, 3)]
    assert re.fullmatch(r"✓ inname bank_fraudemeldingen \(\d+,\d s, 3/3 bestanden\)", lines[4])
    assert lines[5] == "▶ publicatie"
    assert re.fullmatch(r"✓ publicatie \(\d+,\d s\)", lines[6])


def test_plain_lines_per_quarter_not_per_file() -> None:
    out = io.StringIO()
    progress = Progress(out)
    progress.start("inname bank_fraudemeldingen", total=384)
    for done in range(1, 385):
        progress.advance("inname bank_fraudemeldingen", done)
    counts = [line for line in out.getvalue().splitlines() if line.startswith("  ")]
    assert counts == [f"  inname bank_fraudemeldingen: {n}/384 bestanden" for n in (96, 192, 288, 384)]


def test_failed_or_unfinished_stages_end_with_a_cross() -> None:
    out = io.StringIO()
    progress = Progress(out)
    try:
        with progress.stage("dbt: standaardiseren en testen"):
            raise RuntimeError("stuk")
    except RuntimeError:
        pass
    progress.start("rapporten (informatiebeeld)")
    progress.close()
    ends = [line for line in out.getvalue().splitlines() if not line.startswith("▶")]
    assert ends[0].startswith("✗ dbt: standaardiseren en testen (")
    assert ends[1].startswith("✗ rapporten (informatiebeeld) (") and ends[1].endswith("— afgebroken")


def test_live_bar_keeps_the_finished_lines() -> None:
    out = io.StringIO()
    progress = Progress(out, live=True)
    progress.start("inname politie_registraties", total=2)
    progress.advance("inname politie_registraties", 2)
    progress.end("inname politie_registraties")
    progress.close()
    assert "✓ inname politie_registraties" in out.getvalue()
    assert "2/2 bestanden" in out.getvalue()


def test_seconds_and_stage_names_in_dutch() -> None:
    assert seconds_text(3.25) == "3,2 s"
    assert seconds_text(125) == "2 min 05 s"
    assert step_stage("kwaliteitspoort") == "kwaliteitspoort (GX)"
    assert step_stage("dvcc_dbt_assets") == "dbt: standaardiseren en testen"
    assert step_stage("iets_anders") == "iets_anders"
