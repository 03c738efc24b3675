"""The consumers' data dictionary, generated from `data_contracts/published.yaml`.

docs/consumers.md carries the generated text between two markers; a test keeps it equal to what
this module generates, so a table or column added to the contract shows up there only after
`python -m dvcc_pipeline.publication.dictionary` has been run (and committed).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import yaml
from open_data_contract_standard.model import OpenDataContractStandard

from dvcc_pipeline.config import REPO_ROOT
from dvcc_pipeline.publication.contract import (
    PUBLISHED_CONTRACT_PATH,
    SUPPRESSED_FLAG,
    PublishedTable,
    parse_published_contract,
)

CONSUMERS_DOC = REPO_ROOT / "docs" / "consumers.md"
BEGIN = "<!-- woordenboek:begin (gegenereerd uit data_contracts/published.yaml; niet met de hand wijzigen) -->"
END = "<!-- woordenboek:end -->"


def _cell(text: object) -> str:
    """One line of Markdown table text."""
    return " ".join(str(text).split()).replace("|", "\\|") if text not in (None, "") else "–"


def _suppression(table: PublishedTable, column: str, k: int, b: int) -> str:
    """What disclosure control does to this column, in the consumer's words."""
    spec = table.disclosure
    if spec is None:
        return ""
    if column == SUPPRESSED_FLAG:
        return "true als een bedrag in deze rij is weggelaten"
    if column in spec.counts:
        return f"afgerond op {b}-tallen onder eenheidsniveau; op eenheidsniveau exact vanaf {k}"
    if column in spec.amounts:
        if not spec.publish_amounts:
            return "altijd leeg: bedragen staan per jaar en in de totalen"
        return f"leeg als het aantal onder {k} ligt, één registratie domineert of ter bescherming van een ander bedrag"
    derived = {d.column: d for d in spec.derived}
    if column in derived:
        return f"berekend uit de afgeronde {derived[column].measure}"
    if spec.rank is not None and column == spec.rank.column:
        return f"berekend uit de afgeronde {spec.rank.measure}; gelijke aantallen delen een rang"
    return ""


def _key(prop: Any) -> str:
    if prop.primaryKey:
        return f"sleutel {prop.primaryKeyPosition}"
    return "verplicht" if prop.required else ""


def _allowed(prop: Any) -> str:
    values = [str(e.value) for e in prop.enum or []]
    return "; waarden: " + ", ".join(values) if values else ""


def generate(path: Path = PUBLISHED_CONTRACT_PATH) -> str:
    """The dictionary as Markdown: per table its meaning, grain, disclosure control and columns."""
    contract = parse_published_contract(path)
    model = OpenDataContractStandard.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")))
    glossary = next((p.value for p in model.customProperties or [] if p.property == "columnGlossary"), None) or {}
    policy = contract.policy
    k, b = policy.min_cell_size, policy.rounding_base
    lines = [
        f"Contract `{contract.id}` versie {contract.version}; leesbaar met DuckDB ≥ "
        f"{contract.minimum_reader_version}. Aantallen afgerond op {b}-tallen op niveau "
        f"{', '.join(policy.rounded_levels)}; op eenheidsniveau exact vanaf k = {k}. Een totaal is apart "
        "afgerond en kan dus afwijken van de som van de afgeronde delen.",
        "",
    ]
    for obj, table in zip(model.schema_ or [], contract.tables, strict=True):
        lines += [f"### {table.name}", "", _cell(obj.description), ""]
        if obj.dataGranularityDescription:
            lines += [f"Korrel: {_cell(obj.dataGranularityDescription)}", ""]
        disclosure = next((p for p in obj.customProperties or [] if p.property == "disclosure"), None)
        if disclosure is not None and disclosure.description:
            lines += [f"Onthullingscontrole: {_cell(disclosure.description)}", ""]
        elif table.disclosure is None and table.from_mart:
            lines += ["Onthullingscontrole: geen (geen aantallen over personen).", ""]
        lines += ["| kolom | type | sleutel | betekenis | onthullingscontrole |", "| --- | --- | --- | --- | --- |"]
        for prop, column in zip(obj.properties or [], table.columns, strict=True):
            meaning = prop.description or glossary.get(column.name, "")
            if allowed := _allowed(prop):  # "…; waarden: …" follows the sentence without its full stop
                meaning = meaning.rstrip(".") + allowed
            lines.append(
                f"| {column.name} | {_cell(column.physical_type)} | {_cell(_key(prop))} | "
                f"{_cell(meaning.lstrip('; '))} | {_cell(_suppression(table, column.name, k, b))} |"
            )
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def render(document: str, dictionary: str) -> str:
    """`document` with the text between the markers replaced by `dictionary`."""
    head, found, rest = document.partition(BEGIN)
    _, found_end, tail = rest.partition(END)
    if not found or not found_end:
        raise ValueError(f"markeringen voor het gegevenswoordenboek ontbreken in {CONSUMERS_DOC.name}")
    return f"{head}{BEGIN}\n{dictionary}{END}{tail}"


def main() -> int:
    """Rewrite the dictionary in docs/consumers.md."""
    document = CONSUMERS_DOC.read_text(encoding="utf-8")
    CONSUMERS_DOC.write_text(render(document, generate()), encoding="utf-8")
    print(f"Gegevenswoordenboek bijgewerkt in {CONSUMERS_DOC.relative_to(REPO_ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
