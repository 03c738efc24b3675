"""`dvcc` usage errors: exit 2 with one Dutch line; help texts complete and in Dutch; no traceback."""

from __future__ import annotations

import argparse

import pytest

from dvcc_pipeline import cli
from dvcc_pipeline.config import FEEDS
from dvcc_pipeline.reporting import select_regions
from dvcc_pipeline.reporting.data import Region

ENGLISH = ("usage:", "error:", "options:", "positional arguments", "show this help", "invalid", "required")


def _run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    try:
        code = cli.main(argv)
    except SystemExit as exc:  # argparse exits itself
        code = int(exc.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


def _one_dutch_line(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert "Traceback" not in err
    for word in ENGLISH:
        assert word not in lines[0], lines[0]
    return lines[0]


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        ([], "ontbreken"),
        (["bestaatniet"], "ongeldige keuze"),
        (["run", "--onzin"], "onbekende argumenten: --onzin"),
        (["ui", "--port", "abc"], "ongeldige waarde 'abc' (verwacht: een geheel getal)"),
        (["validate"], "deze argumenten ontbreken: BESTAND"),
        (["report", "--basisteam", "A", "--gemeente", "GM0001"], "kan niet samen met"),
        (["serve", "--onderdeel", "alles"], "ongeldige keuze"),
    ],
)
def test_argparse_errors_are_one_dutch_line(argv, expected, capsys, tmp_path) -> None:
    code, out, err = _run([*argv, *(["--home", str(tmp_path)] if argv and argv[0] == "run" else [])], capsys)
    assert code == cli.EXIT_USAGE
    assert expected in _one_dutch_line(err)
    assert out == ""


def test_unknown_contract_lists_the_valid_ids(capsys, tmp_path) -> None:
    file = tmp_path / "x.csv"
    file.write_text("a\n1\n", encoding="utf-8")
    code, _out, err = _run(["validate", "--contract", "bestaatniet", str(file)], capsys)
    assert code == cli.EXIT_USAGE
    line = _one_dutch_line(err)
    assert "onbekend contract 'bestaatniet'" in line
    assert all(feed in line for feed in FEEDS)


def test_missing_file_is_a_usage_error(capsys, tmp_path) -> None:
    code, _, err = _run(["validate", str(tmp_path / "weg.csv")], capsys)
    assert code == cli.EXIT_USAGE
    assert "bestand niet gevonden" in _one_dutch_line(err)


def _regions() -> list[Region]:
    return [
        Region("basisteam", "Heuvelrug", "Heuvelrug", "Heuvelrug", "Oost", "MN", (("GM0339", "Rhenen"),)),
        Region("basisteam", "Vallei", "Vallei", "Vallei", "Oost", "MN", (("GM0279", "Renswoude"),)),
        Region("gemeente", "GM0339", "Rhenen", "Heuvelrug", "Oost", "MN", (("GM0339", "Rhenen"),)),
        Region("gemeente", "GM0279", "Renswoude", "Vallei", "Oost", "MN", (("GM0279", "Renswoude"),)),
    ]


def test_unknown_basisteam_and_gemeente_list_the_valid_names() -> None:
    with pytest.raises(ValueError, match=r"onbekend basisteam 'bestaatniet'; kies uit: Heuvelrug, Vallei$"):
        select_regions(_regions(), "bestaatniet", None)
    with pytest.raises(ValueError, match=r"onbekende gemeente 'GM9999'.*GM0339 \(Rhenen\), GM0279 \(Renswoude\)"):
        select_regions(_regions(), None, "GM9999")
    assert [r.naam for r in select_regions(_regions(), "vallei", None)] == ["Vallei"]


def test_unexpected_fault_is_one_line_not_a_traceback(capsys, tmp_path, monkeypatch) -> None:
    def broken(args: argparse.Namespace) -> int:
        raise RuntimeError("kapot\nregel twee")

    monkeypatch.setattr(cli, "cmd_generate", broken)
    code, _, err = _run(["generate", "--home", str(tmp_path)], capsys)
    assert code == cli.EXIT_FAILED
    line = _one_dutch_line(err)
    assert line.startswith("Onverwachte fout (RuntimeError: kapot)")
    assert "Traceback" in (tmp_path / "logs" / "dvcc.log").read_text(encoding="utf-8")


def _parsers(parser: argparse.ArgumentParser):
    yield parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub in action.choices.values():
                yield from _parsers(sub)


def test_help_is_complete_and_dutch(capsys) -> None:
    parser = cli.build_parser()
    for p in _parsers(parser):
        assert p.description, p.prog
        for action in p._actions:
            if not isinstance(action, argparse._SubParsersAction):
                assert action.help, f"{p.prog} {action.option_strings or action.dest} heeft geen hulptekst"
        text = p.format_help()
        assert "gebruik: " in text and "Afsluitcodes" in text, p.prog
        for word in ENGLISH[:5]:
            assert word not in text, (p.prog, word)
    code, out, _ = _run(["ui", "--help"], capsys)
    assert code == 0 and "poort van de UI" in out
