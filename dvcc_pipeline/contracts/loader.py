"""Load `data_contracts/<feed_id>.yaml` through the ODCS pydantic model into a FeedContract."""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path
from typing import Any

import yaml
from open_data_contract_standard.model import (
    CustomProperty,
    OpenDataContractStandard,
    SchemaProperty,
)

from dvcc_pipeline.config import CONTRACTS_DIR, FEEDS
from dvcc_pipeline.contracts.expressions import check_identifier, compile_expression
from dvcc_pipeline.contracts.model import (
    Column,
    ContractError,
    FeedContract,
    FileFormat,
    FileIdentity,
    PublicationPolicy,
    Reference,
    RowRule,
    Sla,
)

# libyaml's parser when the wheel has it: the same documents, about ten times faster than the
# pure-Python loader, and every `dvcc` command reads all contracts at start-up.
_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

_FEED_ID = re.compile(r"[a-z][a-z0-9_]{0,62}")
_PHYSICAL_TYPES = re.compile(r"VARCHAR|DATE|BIGINT|INTEGER|DOUBLE|BOOLEAN|DECIMAL\(\d{1,2},\s*\d{1,2}\)")
_LOGICAL_TYPES = {"string", "date", "number", "integer"}
_CLASSIFICATIONS = {"public", "internal", "restricted"}
_GRAINS = {"quarter", "month", "year"}
_DAY_UNITS = {"d": 1, "day": 1, "days": 1}


def _props(items: list[CustomProperty] | None) -> dict[str, Any]:
    return {p.property: p.value for p in items or [] if p.property}


def _date_format(jdk: str) -> str:
    """Translate an ODCS (JDK) date format such as `dd-MM-yyyy` into strptime form."""
    translated = jdk.replace("yyyy", "%Y").replace("MM", "%m").replace("dd", "%d")
    if re.sub(r"%[Ymd]", "", translated).strip("-/. ") or translated.count("%") != 3:
        raise ContractError(f"datumformaat niet ondersteund: {jdk!r}")
    return translated


def _reference(value: dict[str, Any]) -> Reference:
    seed = check_identifier(value["seed"])
    by_key = {str(k): check_identifier(v) for k, v in (value.get("columnsByKey") or {}).items()}
    reference = Reference(
        seed=seed,
        column=check_identifier(value["column"]) if value.get("column") else None,
        match=value.get("match", "exact"),
        output=check_identifier(value["output"]) if value.get("output") else None,
        output_column=check_identifier(value["outputColumn"]) if value.get("outputColumn") else None,
        key_column=check_identifier(value["keyColumn"]) if value.get("keyColumn") else None,
        columns_by_key=by_key,
    )
    if reference.match not in {"exact", "name"}:
        raise ContractError(f"onbekende koppelwijze: {reference.match!r}")
    if (reference.column is None) == (reference.key_column is None):
        raise ContractError("referentie heeft óf column óf keyColumn met columnsByKey nodig")
    return reference


def _column(prop: SchemaProperty) -> Column:
    name = check_identifier(prop.name or "")
    if prop.logicalType not in _LOGICAL_TYPES:
        raise ContractError(f"kolom {name}: logicalType {prop.logicalType!r} niet ondersteund")
    physical = (prop.physicalType or "").upper()
    if not _PHYSICAL_TYPES.fullmatch(physical):
        raise ContractError(f"kolom {name}: physicalType {prop.physicalType!r} niet ondersteund")
    if prop.classification not in _CLASSIFICATIONS:
        raise ContractError(f"kolom {name}: classification moet public/internal/restricted zijn")
    options = prop.logicalTypeOptions or {}
    custom = _props(prop.customProperties)
    reference = custom.get("reference")
    return Column(
        name=name,
        logical_type=prop.logicalType,
        physical_type=physical,
        required=bool(prop.required),
        unique=bool(prop.unique),
        classification=prop.classification,
        pseudonym=bool(custom.get("pseudonym", False)),
        enum=tuple(str(e.value) for e in prop.enum or []),
        pattern=options.get("pattern"),
        min_length=options.get("minLength"),
        max_length=options.get("maxLength"),
        minimum=options.get("minimum"),
        maximum=options.get("maximum"),
        exclusive_minimum=options.get("exclusiveMinimum"),
        exclusive_maximum=options.get("exclusiveMaximum"),
        date_format=_date_format(options.get("format", "yyyy-MM-dd")) if prop.logicalType == "date" else None,
        null_markers=tuple(str(v) for v in custom.get("nullMarkers") or []),
        reference=_reference(reference) if reference else None,
    )


def _file_format(value: dict[str, Any]) -> FileFormat:
    try:
        pattern = re.compile(value["namePattern"])
    except (KeyError, re.error) as exc:
        raise ContractError(f"deliveryFile.namePattern ontbreekt of is ongeldig: {exc}") from exc
    if "period" not in pattern.groupindex:
        raise ContractError("deliveryFile.namePattern mist de groep (?P<period>...)")
    if value.get("periodGrain") not in _GRAINS:
        raise ContractError("deliveryFile.periodGrain moet quarter, month of year zijn")
    fmt = value.get("format")
    if fmt not in {"csv", "xlsx"}:
        raise ContractError(f"deliveryFile.format {fmt!r} niet ondersteund")
    for key in ("delimiter", "quote", "escape", "decimalSeparator"):
        if key in value and len(str(value[key])) != 1:
            raise ContractError(f"deliveryFile.{key} moet één teken zijn")
    return FileFormat(
        name_pattern=pattern,
        name_example=value.get("nameExample", ""),
        period_grain=value["periodGrain"],
        format=fmt,
        delimiter=value.get("delimiter", ","),
        quote=value.get("quote", '"'),
        escape=value.get("escape", '"'),
        encoding=value.get("encoding", "UTF-8"),
        byte_order_mark=value.get("byteOrderMark", "allowed"),
        decimal_separator=value.get("decimalSeparator", "."),
        sheet_name=value.get("sheetName"),
        max_size_bytes=value.get("maxSizeBytes"),
    )


def _sla(model: OpenDataContractStandard) -> Sla:
    sla = {p.property: p for p in model.slaProperties or []}
    try:
        frequency, latency, retention = sla["frequency"], sla["latency"], sla["retention"]
    except KeyError as exc:
        raise ContractError(f"slaProperties mist {exc}") from exc
    if latency.unit not in _DAY_UNITS:
        raise ContractError("slaProperties.latency moet in dagen (d) staan")
    return Sla(
        frequency=f"{frequency.value} {frequency.unit}",
        due_days_after_period_end=int(latency.value),
        retention_value=int(retention.value),
        retention_unit=str(retention.unit),
        retention_description=retention.description or "",
    )


def _reject_threshold(value: Any) -> float:
    """The share of invalid rows above which a whole delivery is rejected (customProperty
    `rejectThreshold`): a rule over rows, which ODCS's per-column invalidValues cannot express."""
    percent = value.get("invalidRowsPercent") if isinstance(value, dict) else None
    if isinstance(percent, bool) or not isinstance(percent, int | float) or not 0 <= percent <= 100:
        raise ContractError("contract mist de drempel voor ongeldige rijen (rejectThreshold.invalidRowsPercent 0-100)")
    return float(percent) / 100


def _rules(quality: list[Any], column_names: list[str]) -> tuple[RowRule, ...]:
    rules: list[RowRule] = []
    for check in quality:
        if check.type == "library" and check.metric == "invalidValues" and check.arguments is None:
            raise ContractError("drempel voor ongeldige rijen hoort in customProperties.rejectThreshold")
        if check.type == "custom" and check.engine == "duckdb":
            impl = check.implementation
            if not isinstance(impl, dict):
                raise ContractError(f"regel {check.id}: implementation moet een object zijn")
            rule = RowRule(
                code=check_identifier(impl["code"]),
                column=check_identifier(impl["column"]),
                expression=impl["expression"],
                message=impl["message"],
            )
            # Fail at load time, not on the first delivery.
            compile_expression(rule.expression, {c: "x" for c in column_names}, "p")
            if rule.column not in column_names:
                raise ContractError(f"regel {rule.code}: onbekende kolom {rule.column}")
            rules.append(rule)
    return tuple(rules)


def contract_path(feed_id: str) -> Path:
    if not _FEED_ID.fullmatch(feed_id):
        raise ContractError(f"ongeldige feed: {feed_id!r}")
    return CONTRACTS_DIR / f"{feed_id}.yaml"


def read_yaml(text: str) -> Any:
    """`yaml.safe_load`, through libyaml when available."""
    return yaml.load(text, Loader=_YAML_LOADER)


def parse_contract(path: Path) -> FeedContract:
    """Parse one contract file (through the ODCS model) into a FeedContract."""
    # As `OpenDataContractStandard.from_file`, with the faster YAML parser.
    model = OpenDataContractStandard(**read_yaml(path.read_text(encoding="utf-8")))
    feed_id = model.id or ""
    if not _FEED_ID.fullmatch(feed_id):
        raise ContractError(f"ongeldig contract-id: {feed_id!r}")
    if not model.schema_ or len(model.schema_) != 1:
        raise ContractError(f"{feed_id}: precies één schema-object verwacht")
    table = model.schema_[0]
    if table.name != feed_id:
        raise ContractError(f"{feed_id}: schema-naam moet gelijk zijn aan het id")
    columns = tuple(_column(p) for p in table.properties or [])
    names = [c.name for c in columns]
    if len(set(names)) != len(names) or not columns:
        raise ContractError(f"{feed_id}: kolomnamen ontbreken of zijn dubbel")
    for column in columns:
        ref = column.reference
        if ref and ref.key_column and ref.key_column not in names:
            raise ContractError(f"{feed_id}: referentie noemt onbekende kolom {ref.key_column}")
    custom = _props(model.customProperties)
    rules = _rules(table.quality or [], names)
    threshold = _reject_threshold(custom.get("rejectThreshold"))
    policy = custom.get("publicationPolicy") or {}
    try:
        publication = PublicationPolicy(
            min_cell_size=int(policy["minCellSize"]),
            dominance_threshold=float(policy["dominanceThreshold"]),
        )
        return FeedContract(
            feed_id=feed_id,
            version=str(model.version),
            status=str(model.status),
            name=model.name or feed_id,
            default_supplier=check_identifier(custom["supplier"]),
            columns=columns,
            file=_file_format(custom["deliveryFile"]),
            rules=rules,
            invalid_row_threshold=threshold,
            sla=_sla(model),
            publication=publication,
            legal_basis=str(custom["legalBasis"]),
            covenant=dict(custom["covenant"]),
            source_path=str(path),
        )
    except KeyError as exc:
        raise ContractError(f"{feed_id}: contract mist {exc}") from exc


@cache
def _load_cached(path: str, mtime_ns: int) -> FeedContract:
    return parse_contract(Path(path))


def load_contract(feed_id: str) -> FeedContract:
    """The contract of one feed (re-read when the file changes)."""
    path = contract_path(feed_id)
    if not path.is_file():
        raise ContractError(f"geen contract voor feed {feed_id!r}")
    return _load_cached(str(path), path.stat().st_mtime_ns)


def all_contracts() -> list[FeedContract]:
    """The contracts of every configured feed, in the order of config.FEEDS."""
    return [load_contract(feed_id) for feed_id in FEEDS]


def contract_for_filename(name: str) -> tuple[FeedContract, FileIdentity] | None:
    """The contract whose name pattern matches `name`, with what the name says."""
    for contract in all_contracts():
        identity = contract.identify(name)
        if identity is not None:
            return contract, identity
    return None
