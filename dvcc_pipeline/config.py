"""All settings of the pipeline, read from the environment in one place.

Every other module asks this one for paths and secrets, so the dbt profile, the Dagster
resources and the CLI always agree on which DuckDB file and which folders they use.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
DBT_PROJECT_DIR = REPO_ROOT / "dbt_project"
CONTRACTS_DIR = REPO_ROOT / "data_contracts"
SEEDS_DIR = DBT_PROJECT_DIR / "seeds"
PARTNERS_FILE = CONTRACTS_DIR / "partners.yaml"
CODE_LOCATION = "dvcc_pipeline"
"""The code location's name (workspace.yaml, the service's code server, runs of `dvcc run`)."""


def partners_file() -> Path:
    """The partner registry of this deployment (`DVCC_PARTNERS_FILE`, default the repository's)."""
    return Path(os.environ.get("DVCC_PARTNERS_FILE") or PARTNERS_FILE)


FEEDS: tuple[str, ...] = (
    "politie_registraties",
    "bank_fraudemeldingen",
    "fraudehelpdesk_meldingen",
    "veiligheidsmonitor",
    "programma_registraties",
)

# Modes of the partner boxes (see docs/operations.md, "Partnerboxen"): `partners/` can be
# passed but not listed, a box can be entered (sshd's ChrootDirectory wants it root-owned and
# not group-writable), `in/` is writable and `uit/` readable by the partner's own group only;
# setgid makes what lands there keep that group. Set when a folder is created, never forced
# afterwards, so an operator's chown/chmod for the chroot stays.
PARTNERS_MODE = 0o711
BOX_MODE = 0o755
BOX_IN_MODE = 0o2770
BOX_OUT_MODE = 0o2750
BOX_FILE_MODE = 0o640

# A fixed key so the demo runs without set-up; never used when DVCC_PSEUDONYM_KEY is set.
DEMO_PSEUDONYM_KEY = "dvcc-demo-sleutel-niet-voor-productie"
# The same for the rounding of published counts (DVCC_ROUNDING_KEY): a separate secret, never
# derived from the pseudonym key, so knowing one gives nothing of the other.
DEMO_ROUNDING_KEY = "dvcc-demo-afrondingssleutel-niet-voor-productie"

# A home whose data lives in another time (the demo: 2023-2024) records its own "today" here,
# one ISO date, so the freshness check measures lateness on the data's clock, not the wall's.
REFERENCE_DATE_FILE = "peildatum.txt"


@dataclass(frozen=True)
class Settings:
    """Resolved settings; build with :func:`get_settings`."""

    home: Path
    pseudonym_key: bytes
    pseudonym_key_is_demo: bool
    settle_seconds: float
    max_file_bytes: int
    fault: str | None = None
    """Fault injection for the fault tests (`DVCC_FAULT`, e.g. `kill@laden`); never set in production."""
    dagster_pg_url: str | None = None
    """PostgreSQL for Dagster's own storage (runs, events, schedules); SQLite in DVCC_HOME when unset."""
    sensor_interval_seconds: int = 5
    """How often the landing and processing sensors look (the daemon's minimum interval; its
    sensor loop itself turns every 5 s, so lower buys nothing)."""
    storage_timeout_seconds: int = 300
    """`dvcc serve` stops with exit code 1 when Dagster's storage (PostgreSQL) has been
    unreachable this long, so systemd restarts it (`DVCC_STORAGE_TIMEOUT_SECONDS`)."""
    log_max_bytes: int = 10 * 1024**2
    """Size at which a log file of `dvcc serve` rotates (`DVCC_LOG_MAX_BYTES`; five old files kept)."""
    rounding_key: bytes = DEMO_ROUNDING_KEY.encode("utf-8")
    """`DVCC_ROUNDING_KEY`: the secret of the keyed rounding of published counts (rounding.py)."""
    rounding_key_is_demo: bool = True
    reference_date: date | None = None
    """The day the freshness check counts from (`DVCC_REFERENCE_DATE`, or the home's
    `peildatum.txt` that the demo writes); None: today."""
    reference_date_source: str | None = None
    """Where `reference_date` came from, in words for the UI."""

    @property
    def landing_dir(self) -> Path:
        return self.home / "landing"

    @property
    def archive_dir(self) -> Path:
        return self.home / "archive"

    @property
    def quarantine_dir(self) -> Path:
        return self.home / "quarantine"

    @property
    def restricted_quarantine_dir(self) -> Path:
        """Files with personal data: kept apart, readable by the owner only."""
        return self.home / "quarantine_beperkt"

    @property
    def intake_dir(self) -> Path:
        """Private copies of deliveries being taken in, with their journal (same disk as the archive)."""
        return self.home / ".inname"

    @property
    def receipts_dir(self) -> Path:
        return self.home / "receipts"

    @property
    def warehouse_dir(self) -> Path:
        return self.home / "warehouse"

    @property
    def warehouse_path(self) -> Path:
        return self.warehouse_dir / "dvcc.duckdb"

    @property
    def published_dir(self) -> Path:
        return self.home / "published"

    @property
    def published_path(self) -> Path:
        return self.published_dir / "published.duckdb"

    @property
    def reports_dir(self) -> Path:
        return self.home / "reports"

    @property
    def dagster_home(self) -> Path:
        return self.home / "dagster"

    @property
    def logs_dir(self) -> Path:
        return self.home / "logs"

    @property
    def dbt_target_dir(self) -> Path:
        """dbt's state for this home: manifest, partial parse, each run's artifacts and dbt.log
        (dagster-dbt gives every invocation a folder below it and puts its log there too), so
        the installed code stays read-only and two homes never share a parse."""
        return self.home / "dbt" / "target"

    @property
    def code_server_socket(self) -> Path:
        """The Unix socket of the home's one code server (webserver, daemon and runs use it)."""
        return self.dagster_home / "code-server.sock"

    @property
    def bench_dir(self) -> Path:
        return self.home / "bench"

    @property
    def partners_dir(self) -> Path:
        """One box per registered partner: `partners/<partner>/in/` and `uit/`."""
        return self.home / "partners"

    def box_in(self, partner_id: str) -> Path:
        return self.partners_dir / partner_id / "in"

    def box_out(self, partner_id: str) -> Path:
        return self.partners_dir / partner_id / "uit"

    def landing_for(self, feed_id: str) -> Path:
        return self.landing_dir / feed_id

    def ensure_dirs(self, partner_ids: Iterable[str]) -> None:
        """Create the folder layout of DVCC_HOME and a box per partner (idempotent).

        The partner ids come from the caller (`contracts.load_partners()`): the registry is
        checked against the contracts, and settings know nothing of contracts."""
        for path in (
            self.archive_dir,
            self.intake_dir,
            self.quarantine_dir,
            self.restricted_quarantine_dir,
            self.receipts_dir,
            self.warehouse_dir,
            self.published_dir,
            self.dagster_home,
        ):
            path.mkdir(parents=True, exist_ok=True)
        self.restricted_quarantine_dir.chmod(0o700)
        for feed_id in FEEDS:
            self.landing_for(feed_id).mkdir(parents=True, exist_ok=True)
        self.ensure_boxes(partner_ids)

    def ensure_boxes(self, partner_ids: Iterable[str]) -> None:
        """A box for every partner in `partner_ids`, with the modes above on what is new."""
        _make_dir(self.partners_dir, PARTNERS_MODE)
        for partner_id in partner_ids:
            _make_dir(self.partners_dir / partner_id, BOX_MODE)
            _make_dir(self.box_in(partner_id), BOX_IN_MODE)
            _make_dir(self.box_out(partner_id), BOX_OUT_MODE)


def _make_dir(path: Path, mode: int) -> None:
    """Create `path` with exactly `mode` (chmod after mkdir: the umask does not apply)."""
    try:
        path.mkdir()
    except FileExistsError:
        return
    path.chmod(mode)


def get_settings() -> Settings:
    """Read the settings from the environment (every call, so tests can change it)."""
    home = Path(os.environ.get("DVCC_HOME") or REPO_ROOT / ".dvcc").resolve()
    key = os.environ.get("DVCC_PSEUDONYM_KEY")
    rounding_key = os.environ.get("DVCC_ROUNDING_KEY") or None
    if rounding_key is not None and rounding_key == key:
        raise ValueError("DVCC_ROUNDING_KEY moet een eigen geheim zijn, niet gelijk aan DVCC_PSEUDONYM_KEY")
    return Settings(
        home=home,
        pseudonym_key=(key or DEMO_PSEUDONYM_KEY).encode("utf-8"),
        pseudonym_key_is_demo=key is None,
        settle_seconds=float(os.environ.get("DVCC_SETTLE_SECONDS", "10")),
        max_file_bytes=int(os.environ.get("DVCC_MAX_FILE_BYTES", str(2 * 1024**3))),
        fault=os.environ.get("DVCC_FAULT") or None,
        dagster_pg_url=os.environ.get("DVCC_DAGSTER_PG_URL") or None,
        sensor_interval_seconds=int(os.environ.get("DVCC_SENSOR_INTERVAL_SECONDS", "5")),
        storage_timeout_seconds=int(os.environ.get("DVCC_STORAGE_TIMEOUT_SECONDS", "300")),
        log_max_bytes=int(os.environ.get("DVCC_LOG_MAX_BYTES", str(10 * 1024**2))),
        rounding_key=(rounding_key or DEMO_ROUNDING_KEY).encode("utf-8"),
        rounding_key_is_demo=rounding_key is None,
        **_reference_date(home),
    )


def _reference_date(home: Path) -> dict[str, object]:
    """DVCC_REFERENCE_DATE, else the date in the home's peildatum.txt, else nothing (today)."""
    text, source = os.environ.get("DVCC_REFERENCE_DATE"), "omgevingsvariabele DVCC_REFERENCE_DATE"
    if not text:
        try:
            text = (home / REFERENCE_DATE_FILE).read_text(encoding="utf-8").strip()
        except OSError:
            return {}
        source = f"{REFERENCE_DATE_FILE} in DVCC_HOME"
    try:
        return {"reference_date": date.fromisoformat(text), "reference_date_source": source}
    except ValueError as exc:
        raise ValueError(f"peildatum {text!r} uit {source} is geen datum (verwacht JJJJ-MM-DD)") from exc


def export_to_environment(settings: Settings) -> None:
    """Expose the derived paths to the tools that read the environment themselves.

    dbt's profile reads ``DVCC_WAREHOUSE_PATH``, dagster-dbt ``DBT_TARGET_PATH`` and Dagster
    ``DAGSTER_HOME``; all are
    derived from ``DVCC_HOME`` here so there is still one source of truth. With PostgreSQL,
    Dagster reads the URL from ``DVCC_DAGSTER_PG_DRIVER_URL``, derived from ``DVCC_DAGSTER_PG_URL``.
    """
    os.environ["DVCC_HOME"] = str(settings.home)
    os.environ["DVCC_WAREHOUSE_PATH"] = str(settings.warehouse_path)
    os.environ["DAGSTER_HOME"] = str(settings.dagster_home)
    # dagster-dbt derives every invocation's target (and log) folder from this variable.
    os.environ["DBT_TARGET_PATH"] = str(settings.dbt_target_dir)
    if settings.dagster_pg_url:
        os.environ[PG_DRIVER_URL_VARIABLE] = pg_driver_url(settings.dagster_pg_url)


PG_DRIVER_URL_VARIABLE = "DVCC_DAGSTER_PG_DRIVER_URL"
"""The PostgreSQL URL with its driver named, as Dagster's dagster.yaml reads it."""


def pg_driver_url(url: str) -> str:
    """`postgresql://...` with the installed driver (psycopg2) named: SQLAlchemy 2.1 would
    otherwise pick psycopg 3, which is not installed."""
    scheme, sep, rest = url.partition("://")
    return f"postgresql+psycopg2://{rest}" if sep and scheme in ("postgresql", "postgres") else url
