"""ODCS v3 data contracts (`data_contracts/`) as typed objects for the ingestion validator."""

from dvcc_pipeline.contracts.expressions import (
    CompiledExpression,
    check_identifier,
    compile_expression,
    quote_identifier,
)
from dvcc_pipeline.contracts.loader import (
    all_contracts,
    contract_for_filename,
    contract_path,
    load_contract,
    parse_contract,
)
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
    period_bounds,
)
from dvcc_pipeline.contracts.partners import Partner, PartnerRegistryError, load_partners, parse_partners

__all__ = [
    "Column",
    "CompiledExpression",
    "ContractError",
    "FeedContract",
    "FileFormat",
    "FileIdentity",
    "Partner",
    "PartnerRegistryError",
    "PublicationPolicy",
    "Reference",
    "RowRule",
    "Sla",
    "all_contracts",
    "check_identifier",
    "compile_expression",
    "contract_for_filename",
    "contract_path",
    "load_contract",
    "load_partners",
    "parse_contract",
    "parse_partners",
    "period_bounds",
    "quote_identifier",
]
