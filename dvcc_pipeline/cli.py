"""The `dvcc` command: argument parsing in Dutch and one function per subcommand.

Every usage error exits 2 with one Dutch line; every other failure ends in one Dutch line and
exit code 1 (the traceback goes to DVCC_HOME/logs/dvcc.log), see `EXIT_CODES`.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

from dvcc_pipeline.config import FEEDS, REPO_ROOT, get_settings

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2

EXIT_CODES = """\
Afsluitcodes
  0  gelukt (`validate`: het bestand zou worden geaccepteerd)
  1  `run`/`demo`: een stap of een blokkerende controle is mislukt (een blokkerende controle laat
     de vorige publicatie staan; de uitvoer zegt of er eerder in de run een nieuwe live ging);
     `validate`: geaccepteerd, maar sommige rijen zouden worden afgekeurd;
     andere opdrachten: een fout tijdens het werk (één regel uitleg, details in DVCC_HOME/logs)
  2  `validate`: het bestand zou worden afgekeurd; andere opdrachten: verkeerd gebruik
"""

# argparse's own English messages, in Dutch (see DutchArgumentParser.error).
_ARGPARSE_DUTCH = (
    (re.compile(r"the following arguments are required: (.*)"), r"deze argumenten ontbreken: \1"),
    (
        re.compile(r"argument (.*?): invalid choice: (.*?) \(choose from (.*)\)"),
        r"\1: ongeldige keuze \2 (kies uit \3)",
    ),
    (re.compile(r"argument (.*?): invalid (\w+) value: (.*)"), r"\1: ongeldige waarde \3 (verwacht: \2)"),
    (re.compile(r"argument (.*?): not allowed with argument (.*)"), r"\1 kan niet samen met \2"),
    (re.compile(r"argument (.*?): expected one argument"), r"\1 verwacht een waarde"),
    (re.compile(r"argument (.*?): ignored explicit argument (.*)"), r"\1 neemt geen waarde (\2)"),
    (re.compile(r"unrecognized arguments: (.*)"), r"onbekende argumenten: \1"),
    (re.compile(r"ambiguous option: (.*?) could match (.*)"), r"dubbelzinnige optie \1: kan \2 zijn"),
)
_TYPE_WORDS = {"int": "een geheel getal", "float": "een getal"}


def dutch_usage_message(message: str) -> str:
    """argparse's English error text in Dutch; unknown texts pass unchanged."""
    for pattern, replacement in _ARGPARSE_DUTCH:
        if pattern.fullmatch(message):
            text = pattern.sub(replacement, message)
            for word, dutch in _TYPE_WORDS.items():
                text = text.replace(f"(verwacht: {word})", f"(verwacht: {dutch})")
            return text
    return message


class DutchHelpFormatter(argparse.RawDescriptionHelpFormatter):
    """Help with a Dutch usage line."""

    def add_usage(self, usage, actions, groups, prefix=None):  # type: ignore[no-untyped-def]
        super().add_usage(usage, actions, groups, "gebruik: " if prefix is None else prefix)


class DutchArgumentParser(argparse.ArgumentParser):
    """An ArgumentParser whose help and errors read in Dutch: a usage error is one Dutch line, exit 2."""

    def __init__(self, *args, **kwargs) -> None:  # type: ignore[no-untyped-def]
        kwargs.setdefault("formatter_class", DutchHelpFormatter)
        kwargs["add_help"] = False
        super().__init__(*args, **kwargs)
        self._positionals.title = "argumenten"
        self._optionals.title = "opties"
        self.add_argument("-h", "--help", action="help", help="toon deze hulp en stop")

    def error(self, message: str):  # type: ignore[no-untyped-def]
        self.exit(EXIT_USAGE, f"{self.prog}: {dutch_usage_message(message)} (hulp: {self.prog} --help)\n")


def _use_home(home: str | None) -> None:
    if home:
        os.environ["DVCC_HOME"] = str(Path(home).resolve())


def cmd_generate(args: argparse.Namespace) -> int:
    _generate(args)
    return EXIT_OK


def _generate(args: argparse.Namespace):  # -> GenerationSummary (imported lazily)
    from dvcc_pipeline.contracts import load_partners
    from dvcc_pipeline.demo.generator import generate

    settings = get_settings()
    settings.ensure_dirs(load_partners())
    summary = generate(settings.home, scale=args.scale, seed=args.seed)
    print(f"Demoleveringen geschreven (schaal {summary.scale}, seed {summary.seed}):")
    files = summary.files_per_feed()
    for feed_id, rows in summary.rows_per_feed().items():
        print(f"  {feed_id:<26} {len(files[feed_id]):>4} bestanden {rows:>10} rijen")
    print("Ingebouwde leveringsscenario's (ronde: bestand -> verwachte status):")
    for s in summary.scenarios:
        print(f"  {s.wave}: {s.file_name} -> {s.expected_status}: {s.uitleg}")
    return summary


def cmd_run(args: argparse.Namespace) -> int:
    from dvcc_pipeline.operations import uptodate
    from dvcc_pipeline.operations.progress import Progress, seconds_text

    settings = get_settings()
    everything = getattr(args, "alles", False)
    if not everything and (since := uptodate.nothing_to_do(settings)):
        print(f"Niets te doen: landing is leeg en alles is bijgewerkt sinds de run van {since}.")
        return EXIT_OK
    started = time.perf_counter()
    progress = Progress()
    progress.start("Dagster en dbt laden")
    from dvcc_pipeline.operations.instance import get_instance, prepare_instance

    prepare_instance(settings)  # DVCC_HOME, dagster.yaml and the paths dbt reads, before the definitions load
    from dvcc_pipeline.definitions import defs
    from dvcc_pipeline.operations.headless import run_pipeline
    from dvcc_pipeline.operations.summary import ledger_state, print_summary
    from dvcc_pipeline.runtime.recovery import fail_dead_runs

    instance = get_instance(settings)
    progress.end("Dagster en dbt laden")
    uptodate.forget(settings)
    if dead := fail_dead_runs(instance):
        print(
            f"{len(dead)} afgebroken run(s) zonder proces als mislukt gemarkeerd "
            f"({', '.join(run.run_id[:8] for run in dead)}); de warehouse-pool is weer vrij.\n",
            flush=True,
        )
    before = ledger_state(settings.warehouse_path)
    outcome = run_pipeline(
        defs,
        instance,
        settings,
        everything=everything,
        direct=getattr(args, "direct", False),
        progress=progress,
    )
    print(f"Klaar in {seconds_text(time.perf_counter() - started)}.\n")
    for line in outcome.warnings:
        print(f"Let op: {line}", file=sys.stderr)
    if outcome.success and not outcome.processed:
        print("Niets te verwerken: geen nieuwe leveringen of wijzigingen sinds de laatste publicatie.\n")
    print_summary(settings, settings.published_path, before=before, published_now=outcome.published)
    if not outcome.success:
        for line in outcome.faults:
            print(line, file=sys.stderr)
        for name in outcome.failed_checks:
            print(f"Blokkerende controle mislukt: {name}", file=sys.stderr)
        for name in outcome.failed_steps:
            print(f"Stap mislukt: {name}", file=sys.stderr)
        if outcome.published:
            print("De nieuwe publicatie staat wel live; alleen de stappen hierna zijn mislukt.", file=sys.stderr)
        else:
            print("Niets nieuws gepubliceerd; de vorige publicatie blijft staan.", file=sys.stderr)
        print(f"Details: de Dagster UI (dvcc ui) en {settings.home / 'logs' / 'run.log'}", file=sys.stderr)
        return EXIT_FAILED
    uptodate.remember(settings)
    return EXIT_OK


def cmd_demo(args: argparse.Namespace) -> int:
    import duckdb

    from dvcc_pipeline.demo.boxes import box_listing, drop_into_boxes, drop_posing_file
    from dvcc_pipeline.operations.summary import scenario_check

    settings = get_settings()
    print(f"Demo in {settings.home}\n")
    scenarios = _generate(args).scenarios
    moved = drop_into_boxes(settings, settings.landing_dir)
    posing = drop_posing_file(settings)
    print(f"{moved} bestanden in de boxen van de partners gezet (partners/<partner>/in/); de rest in landing/.")
    if posing is not None:
        print(f"Extra: {posing.parent.parent.name} levert in zijn eigen box een bestand op naam van een andere bank.")
    args.direct = True  # the demo writes its files itself: nothing is still being uploaded
    print("\n== Eerste levering verwerken ==")
    code = cmd_run(args)
    second_wave = settings.home / "demo" / "tweede_levering"
    if second_wave.exists():
        print("\n== Tweede levering (correcties, duplicaat, herleveringen) ==")
        drop_into_boxes(settings, second_wave)
        for feed_dir in sorted(p for p in second_wave.iterdir() if p.is_dir()):
            for file in sorted(feed_dir.iterdir()):
                shutil.move(str(file), settings.landing_for(feed_dir.name) / file.name)
        code = max(code, cmd_run(args))
    print("\n== Ontvangstbewijzen in de boxen ==")
    for line in box_listing(settings):
        print(line)
    if posing is not None:
        overview = settings.box_out(posing.parent.parent.name) / "overzicht.md"
        refused = [line for line in overview.read_text(encoding="utf-8").splitlines() if posing.name in line]
        print(f"\nIn {posing.parent.parent.name}/uit/overzicht.md:")
        for line in refused:
            print(line)
    print("\n== Scenario's gecontroleerd (bestand → status) ==")
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as conn:
        lines, ok = scenario_check(conn, scenarios)
    print("\n".join(lines))
    if not ok:
        print("Niet elk scenario kreeg de verwachte status (✗ hierboven).", file=sys.stderr)
        return max(code, EXIT_FAILED)
    print("Alle scenario's kregen de verwachte status.")
    return code


def cmd_herstel(args: argparse.Namespace) -> int:
    from dvcc_pipeline.store.restore import restore

    settings = get_settings()
    print(f"Datawarehouse herbouwen uit {settings.archive_dir} en {settings.receipts_dir} ...")
    result = restore(settings)
    print(
        f"Herbouwd in {result.seconds:.1f} s: {result.receipts} ontvangstbewijzen, {result.loaded} leveringen "
        f"opnieuw geladen ({result.rows} rijen)."
    )
    if result.damaged_copy:
        print(f"Het beschadigde bestand staat nog als {result.damaged_copy}; verwijder het als alles klopt.")
    print("\n== Alles opnieuw bouwen, toetsen en publiceren ==")
    args.alles, args.direct = True, False
    return cmd_run(args)


def cmd_backup(args: argparse.Namespace) -> int:
    from dvcc_pipeline.store.backup import backup

    result = backup(get_settings(), Path(args.map))
    print(
        f"Back-up in {result.folder}: {result.files} bestanden (archief, quarantaine, ontvangstbewijzen, publicatie)."
    )
    if not result.warehouse_copied:
        print(
            "Het datawarehouse is niet gekopieerd (in gebruik of beschadigd); "
            "`dvcc herstel` bouwt het uit deze back-up."
        )
    return EXIT_OK


def cmd_validate(args: argparse.Namespace) -> int:
    from dvcc_pipeline.config import FEEDS
    from dvcc_pipeline.ingestion import validate_file

    path = Path(args.file)
    if args.contract and args.contract not in FEEDS:
        print(f"dvcc validate: onbekend contract {args.contract!r}; kies uit: {', '.join(FEEDS)}", file=sys.stderr)
        return EXIT_USAGE
    if not path.is_file():
        print(f"dvcc validate: bestand niet gevonden: {path}", file=sys.stderr)
        return EXIT_USAGE
    partner = None
    if args.partner:
        from dvcc_pipeline.contracts import load_partners

        partner = load_partners().get(args.partner)
        if partner is None:
            print(
                f"Onbekende partner `{args.partner}`; bekende partners: {', '.join(load_partners())}",
                file=sys.stderr,
            )
            return EXIT_USAGE
    receipt = validate_file(path, args.contract, partner)
    if partner is not None:
        fits = receipt.period is not None and not any(p.code == "leverancier_onjuist" for p in receipt.problems)
        print(
            f"De naam past in de box van {partner.id} (partners/{partner.id}/in/).\n"
            if fits
            else f"De naam past niet in de box van {partner.id}; zo geleverd wordt het bestand afgekeurd.\n"
        )
    print(receipt.to_markdown())
    return receipt.exit_code


def cmd_ui(args: argparse.Namespace) -> int:
    from dvcc_pipeline.operations.instance import prepare_instance

    settings = get_settings()
    prepare_instance(settings)
    print(f"Dagster UI op http://127.0.0.1:{args.port} (DVCC_HOME={settings.home}); stoppen met Ctrl-C")
    dagster = Path(sys.executable).with_name("dagster")
    cmd = [str(dagster), "dev", "-w", "workspace.yaml", "-h", "127.0.0.1", "-p", str(args.port)]
    return subprocess.call(cmd, cwd=REPO_ROOT)


def cmd_serve(args: argparse.Namespace) -> int:
    from dvcc_pipeline.operations.service import COMPONENTS, serve

    components = (args.onderdeel,) if args.onderdeel else COMPONENTS
    return serve(get_settings(), host=args.host, port=args.port, components=components)


def cmd_bench(args: argparse.Namespace) -> int:
    from dvcc_pipeline.bench import run_benchmark

    return run_benchmark(scale=args.scale, seed=args.seed, workdir=Path(args.workdir) if args.workdir else None)


def cmd_report(args: argparse.Namespace) -> int:
    from dvcc_pipeline.reporting import write_reports

    settings = get_settings()
    try:
        written = write_reports(settings, quarter=args.quarter, basisteam=args.basisteam, gemeente=args.gemeente)
    except ValueError as exc:  # unknown quarter, basisteam or gemeente
        print(f"dvcc report: {exc}", file=sys.stderr)
        return EXIT_USAGE
    if not written:
        print("Geen rapporten geschreven: is er al een publicatie? (dvcc run)", file=sys.stderr)
        return EXIT_FAILED
    print(f"{len(written)} rapporten geschreven; overzicht: {settings.reports_dir / 'index.html'}")
    return EXIT_OK


def build_parser() -> argparse.ArgumentParser:
    parser = DutchArgumentParser(
        prog="dvcc",
        description="DVCC-informatiepijplijn: leveringen toetsen, standaardiseren en publiceren.",
        epilog=EXIT_CODES,
    )
    sub = parser.add_subparsers(dest="command", required=True, title="opdrachten", metavar="OPDRACHT")

    def add(name: str, func, help_text: str) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help_text, description=help_text, epilog=EXIT_CODES)
        p.add_argument("--home", help="DVCC_HOME (standaard: omgevingsvariabele of ./.dvcc)")
        p.set_defaults(func=func)
        return p

    for name, func, text in (
        ("generate", cmd_generate, "Schrijf demoleveringen in de landingsmappen."),
        ("demo", cmd_demo, "Genereer demoleveringen en verwerk ze (generate + run, twee leveringsrondes)."),
    ):
        p = add(name, func, text)
        p.add_argument("--scale", type=float, default=1.0, help="volumefactor (standaard 1)")
        p.add_argument("--seed", type=int, default=2025, help="startwaarde toevalsgenerator")
    p = add("run", cmd_run, "Verwerk alles in landing: toetsen, laden, dbt, controles, publiceren.")
    p.add_argument(
        "--alles",
        action="store_true",
        help="bouw, toets en publiceer alles opnieuw, niet alleen wat sinds de laatste publicatie veranderde",
    )
    p.add_argument(
        "--direct",
        action="store_true",
        help="neem bestanden meteen in, zonder de wachttijd (DVCC_SETTLE_SECONDS) af te wachten",
    )
    add(
        "herstel",
        cmd_herstel,
        "Herbouw een beschadigd datawarehouse uit archief en ontvangstbewijzen en publiceer opnieuw.",
    )
    p = add(
        "backup", cmd_backup, "Kopieer wat niet te herbouwen is (archief, quarantaine, ontvangstbewijzen, publicatie)."
    )
    p.add_argument("map", metavar="MAP", help="doelmap van de back-up")
    p = add("validate", cmd_validate, "Toets een bestand aan zijn datacontract zonder iets te wijzigen.")
    p.add_argument("file", metavar="BESTAND", help="het te toetsen bestand")
    p.add_argument(
        "--contract",
        help=f"contract-id, een van: {', '.join(FEEDS)} (standaard: afgeleid uit de bestandsnaam)",
    )
    p.add_argument("--partner", help="partner-id: toets ook of de naam in de box van deze partner past")
    p = add("bench", cmd_bench, "Meet de hele pijplijn op schaal N tegen een kale DuckDB-basislijn.")
    p.add_argument("--scale", type=float, default=20.0, help="volumefactor (standaard 20)")
    p.add_argument("--seed", type=int, default=2025, help="startwaarde toevalsgenerator")
    p.add_argument("--workdir", help="map voor de tijdelijke DVCC_HOME (standaard: een tijdelijke map)")
    p = add("report", cmd_report, "Schrijf het informatiebeeld per basisteam en gemeente (HTML) uit de publicatie.")
    p.add_argument("--quarter", help="kwartaal YYYYQn (standaard: het laatste gepubliceerde)")
    target = p.add_mutually_exclusive_group()
    target.add_argument("--basisteam", help="alleen dit basisteam")
    target.add_argument("--gemeente", help="alleen deze gemeente (GMxxxx)")
    p = add("ui", cmd_ui, "Start de Dagster UI op deze DVCC_HOME (ontwikkelmodus, dagster dev).")
    p.add_argument("--port", type=int, default=3000, help="poort van de UI op 127.0.0.1 (standaard 3000)")
    p = add(
        "serve",
        cmd_serve,
        "Draai de pijplijn als dienst: webserver en daemon (sensoren, schema's, wachtrij), logs in DVCC_HOME/logs.",
    )
    p.add_argument("--host", default="127.0.0.1", help="adres van de webserver (standaard 127.0.0.1)")
    p.add_argument("--port", type=int, default=3000, help="poort van de webserver (standaard 3000)")
    p.add_argument(
        "--onderdeel", choices=("codeserver", "webserver", "daemon"), help="alleen dit onderdeel (systemd-units)"
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    _use_home(args.home)
    from dvcc_pipeline.contracts import PartnerRegistryError, load_partners

    try:
        load_partners()  # checked at start-up against the feed contracts
    except PartnerRegistryError as exc:
        print(f"Partnerregister ongeldig: {exc}", file=sys.stderr)
        return EXIT_FAILED
    try:
        return args.func(args)
    except KeyboardInterrupt:
        print("Onderbroken (Ctrl-C); wat al verwerkt was blijft staan, de volgende run gaat verder.", file=sys.stderr)
        return 130
    except Exception as exc:  # one Dutch line here, the traceback in logs/
        return _fault(exc)


def _fault(exc: Exception) -> int:
    import logging

    import duckdb

    from dvcc_pipeline.contracts import ContractError
    from dvcc_pipeline.ingestion.replay import RestoreError
    from dvcc_pipeline.runtime.errors import WarehouseUnusable, describe

    try:
        log_path = get_settings().home / "logs" / "dvcc.log"
    except Exception:  # the settings themselves are wrong: nowhere to log
        log_path = Path(os.environ.get("DVCC_HOME") or ".dvcc") / "logs" / "dvcc.log"
    try:
        log_path.parent.mkdir(parents=True, exist_ok=True)
        handler = logging.FileHandler(log_path, encoding="utf-8")
        logging.getLogger("dvcc").addHandler(handler)
        logging.getLogger("dvcc").error("dvcc stopte", exc_info=exc)
        handler.close()
        where = f"; details in {log_path}"
    except OSError:  # the disk may be the fault itself
        where = ""
    if isinstance(exc, RestoreError | ContractError):
        line = str(exc)
    elif isinstance(exc, OSError | duckdb.Error | WarehouseUnusable):
        line = describe(exc)
    else:  # a fault of ours, not of the input: still one line for the user
        line = f"Onverwachte fout ({type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else '-'})"
    print(f"{line}{where}", file=sys.stderr)
    return EXIT_FAILED


if __name__ == "__main__":
    sys.exit(main())
