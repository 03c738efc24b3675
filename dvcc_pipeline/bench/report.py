"""The benchmark's result: one JSON file and one Markdown table per run."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

STAGE_LABELS = {
    "validatie_en_laden": "ophalen, toetsen en laden (validatie+laden)",
    "dbt_build": "dbt build (seeds, modellen, dbt-tests)",
    "kwaliteitscontroles": "kwaliteitspoort (GX)",
    "publicatie": "publicatie (published + gemeente-extracten)",
    "overige_stappen": "overige Dagster-stappen",
    "buiten_stappen": "buiten de stappen (opstart, Dagster)",
}
# The floor's stage beside each pipeline stage; the floor does nothing the others do.
FLOOR_STAGES = {"validatie_en_laden": "inlezen_seconden", "dbt_build": "dbt_sql_seconden"}


@dataclass
class RunMeasurement:
    """One `dvcc run` in a subprocess: wall time, time per stage, peak RSS of its process tree."""

    seconden: float
    stappen: dict[str, float]
    per_feed: dict[str, float]
    piek_rss_mib: float

    @property
    def buiten_stappen(self) -> float:
        return round(max(0.0, self.seconden - sum(self.stappen.values())), 2)


@dataclass
class BenchResult:
    schaal: float
    seed: int
    gestart_op: str
    machine: dict[str, object]
    rijen_per_feed: dict[str, int]
    bestanden_per_feed: dict[str, int]
    generatie_seconden: float
    basislijn: dict[str, float]
    volledig: RunMeasurement
    correctie: dict[str, object]
    incrementeel: RunMeasurement | None
    basislijn_gelijk: bool
    vloer: dict[str, object] = field(default_factory=dict)
    """The same-output floor (`floor.py`): seconds in all and per stage."""
    vloer_marts: dict[str, dict[str, int]] = field(default_factory=dict)
    """Per published mart: its rows and the rows only the floor or only the warehouse has."""
    onderdrukt_niet_vergeleken: int = 0
    verschillen: list[list[object]] = field(default_factory=list)

    @property
    def verhouding_zelfde_uitvoer(self) -> float | None:
        """The headline: the full run against the floor that makes the same marts."""
        seconds = self.vloer.get("seconden")
        if not isinstance(seconds, int | float) or seconds <= 0:
            return None
        return round(self.volledig.seconden / seconds, 1)

    @property
    def vloer_gelijk(self) -> bool:
        return bool(self.vloer_marts) and all(
            m["alleen_vloer"] == 0 and m["alleen_warehouse"] == 0 for m in self.vloer_marts.values()
        )

    @property
    def verhouding(self) -> float:
        """Secondary: the full run against the eenheid-only floor (fastexcel + SQL)."""
        return round(self.volledig.seconden / self.basislijn["seconden"], 1)

    @property
    def verhouding_zonder_excel(self) -> float:
        """Like for like without reading the workbooks: the pipeline minus its Fraudehelpdesk
        step against the baseline's SQL part."""
        pipeline = self.volledig.seconden - self.volledig.per_feed.get("fraudehelpdesk_meldingen", 0.0)
        return round(pipeline / max(self.basislijn["sql_seconden"], 0.01), 1)

    def _against(self, excel_key: str) -> float | None:
        excel = self.basislijn.get(excel_key)
        if excel is None:
            return None
        return round(self.volledig.seconden / (excel + self.basislijn["sql_seconden"]), 1)

    @property
    def verhouding_openpyxl(self) -> float | None:
        """Secondary: against a baseline that reads the workbooks with openpyxl."""
        return self._against("excel_openpyxl_seconden")

    @property
    def verhouding_pijplijnlezer(self) -> float | None:
        """Secondary: against a baseline that reads the workbooks with the pipeline's own reader."""
        return self._against("excel_pijplijnlezer_seconden")

    def to_json(self) -> dict[str, object]:
        data = asdict(self)
        for key in ("volledig", "incrementeel"):
            if data[key] is not None:
                data[key]["buiten_stappen"] = getattr(self, key).buiten_stappen
        data["verhouding_zelfde_uitvoer"] = self.verhouding_zelfde_uitvoer
        data["vloer_gelijk"] = self.vloer_gelijk
        data["verhouding_pijplijn_basislijn"] = self.verhouding
        data["verhouding_basislijn_toelichting"] = (
            "kopcijfer: verhouding_zelfde_uitvoer = volledige run / vloer die dezelfde marts maakt "
            "(bestanden met read_csv en fastexcel, de gecompileerde dbt-SQL in één DuckDB-verbinding); "
            "secundair: verhouding_pijplijn_basislijn = volledige run / (Excel naar Arrow met fastexcel + "
            "SQL van alleen de eenheidsrijen), verhouding_openpyxl en verhouding_pijplijnlezer"
        )
        data["verhouding_openpyxl"] = self.verhouding_openpyxl
        data["verhouding_pijplijnlezer"] = self.verhouding_pijplijnlezer
        data["verhouding_zonder_excel"] = self.verhouding_zonder_excel
        return data

    def to_markdown(self) -> str:
        full, inc = self.volledig, self.incrementeel
        lines = [
            f"## Benchmark schaal {self.schaal:g} (seed {self.seed}, {self.gestart_op})",
            "",
            f"Machine: {self.machine['cpus']} cores, Python {self.machine['python']}, "
            f"DuckDB {self.machine['duckdb']}. Generatie van de leveringen: {self.generatie_seconden:.1f} s.",
            "",
            "| feed | bestanden | rijen | validatie+laden (s) |",
            "| --- | ---: | ---: | ---: |",
            *(
                f"| {feed} | {self.bestanden_per_feed.get(feed, 0)} | {rows:,} | {full.per_feed.get(feed, 0.0):.1f} |"
                for feed, rows in self.rijen_per_feed.items()
            ),
            "",
            "| stap | volledige run (s) | vloer, zelfde marts (s) | correctie (s) |",
            "| --- | ---: | ---: | ---: |",
            *(
                f"| {label} | {self._stage(full, key)} | {self._floor(key)} | {self._stage(inc, key)} |"
                for key, label in STAGE_LABELS.items()
            ),
            f"| **totaal (`dvcc run`)** | **{full.seconden:.1f}** | **{self._floor('seconden')}** "
            f"| **{self._value(inc, 'seconden')}** |",
            f"| piekgeheugen procesboom (RSS, MiB) | {full.piek_rss_mib:.0f} | – "
            f"| {self._value(inc, 'piek_rss_mib', 0)} |",
            "",
            "Vloer met dezelfde uitvoer: de bestanden met DuckDB read_csv en fastexcel in raw, dan de "
            "gecompileerde dbt-SQL in afhankelijkheidsvolgorde in één DuckDB-verbinding (geen dbt, geen Dagster). "
            f"**Verhouding pijplijn / vloer met dezelfde uitvoer: {self._ratio_text()}** (kopcijfer). "
            f"Marts van de vloer rij voor rij gelijk aan die van het warehouse: "
            f"**{'ja' if self.vloer_gelijk else 'NEE'}** ({len(self.vloer_marts)} marts).",
            "",
            f"Secundair, de oude vloer (alleen de eenheidsrijen van twee tabellen): {self.basislijn['seconden']:.1f} s "
            f"(Excel naar Arrow met fastexcel {self.basislijn['excel_seconden']:.1f} s, "
            f"SQL {self.basislijn['sql_seconden']:.1f} s); verhouding pijplijn / basislijn: {self.verhouding:g}×.",
            "Secundair, dezelfde SQL met een tragere Excel-lezer: "
            + "; ".join(
                f"{label} ({self.basislijn[key]:.1f} s): {ratio:g}×"
                for label, key, ratio in (
                    ("openpyxl", "excel_openpyxl_seconden", self.verhouding_openpyxl),
                    ("de Excel-lezer van de pijplijn", "excel_pijplijnlezer_seconden", self.verhouding_pijplijnlezer),
                )
                if ratio is not None
            )
            + f"; zonder het inlezen van de Excel-bestanden (pijplijn zonder Fraudehelpdesk-stap / SQL): "
            f"{self.verhouding_zonder_excel:g}×.",
            f"Basislijn gelijk aan de gepubliceerde eenheidscijfers: **{'ja' if self.basislijn_gelijk else 'NEE'}**"
            + ("" if self.basislijn_gelijk else f" ({len(self.verschillen)} verschillen, zie JSON)")
            + f"; {self.onderdrukt_niet_vergeleken} cellen niet exact vergeleken "
            "(aantallen onder k zijn afgerond, verborgen bedragen).",
        ]
        if inc is not None:
            lines.append(
                f"Correctie: `{self.correctie['bestand']}` ({self.correctie['rijen']:,} rijen) vervangt "
                f"{self.correctie['periode']}; de run daarna duurde {inc.seconden:.1f} s."
            )
        return "\n".join([*lines, ""])

    def _ratio_text(self) -> str:
        ratio = self.verhouding_zelfde_uitvoer
        return "–" if ratio is None else f"{ratio:g}×"

    def _floor(self, key: str) -> str:
        value = self.vloer.get(FLOOR_STAGES.get(key, key)) if key in (*FLOOR_STAGES, "seconden") else None
        return f"{value:.1f}" if isinstance(value, int | float) else "–"

    @staticmethod
    def _value(run: RunMeasurement | None, attribute: str, decimals: int = 1) -> str:
        return "–" if run is None else f"{getattr(run, attribute):.{decimals}f}"

    @staticmethod
    def _stage(run: RunMeasurement | None, key: str) -> str:
        if run is None:
            return "–"
        return f"{run.buiten_stappen if key == 'buiten_stappen' else run.stappen.get(key, 0.0):.1f}"

    def write(self, folder: Path) -> tuple[Path, Path]:
        """Write `bench_schaal<N>_<time>.json` and `.md` into `folder`."""
        folder.mkdir(parents=True, exist_ok=True)
        stem = f"bench_schaal{self.schaal:g}_{self.gestart_op.replace(':', '').replace('-', '')}"
        json_path, md_path = folder / f"{stem}.json", folder / f"{stem}.md"
        json_path.write_text(json.dumps(self.to_json(), indent=2, ensure_ascii=False, default=str) + "\n", "utf-8")
        md_path.write_text(self.to_markdown(), encoding="utf-8")
        return json_path, md_path
