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
    onderdrukt_niet_vergeleken: int = 0
    verschillen: list[list[object]] = field(default_factory=list)

    @property
    def verhouding(self) -> float:
        """The headline: the full run against the floor (fastexcel + SQL)."""
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
        data["verhouding_pijplijn_basislijn"] = self.verhouding
        data["verhouding_basislijn_toelichting"] = (
            "kopcijfer: volledige run / (Excel naar Arrow met fastexcel + SQL); "
            "verhouding_openpyxl en verhouding_pijplijnlezer zijn secundair"
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
            "| stap | volledige run (s) | correctie (s) |",
            "| --- | ---: | ---: |",
            *(
                f"| {label} | {self._stage(full, key)} | {self._stage(inc, key)} |"
                for key, label in STAGE_LABELS.items()
            ),
            f"| **totaal (`dvcc run`)** | **{full.seconden:.1f}** | **{self._value(inc, 'seconden')}** |",
            f"| piekgeheugen procesboom (RSS, MiB) | {full.piek_rss_mib:.0f} | {self._value(inc, 'piek_rss_mib', 0)} |",
            "",
            f"Kale DuckDB-basislijn (de vloer): {self.basislijn['seconden']:.1f} s "
            f"(Excel naar Arrow met fastexcel {self.basislijn['excel_seconden']:.1f} s, "
            f"SQL {self.basislijn['sql_seconden']:.1f} s). "
            f"**Verhouding pijplijn / basislijn: {self.verhouding:g}×** (kopcijfer).",
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
