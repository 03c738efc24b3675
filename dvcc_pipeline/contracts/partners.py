"""The partner registry (`data_contracts/partners.yaml`): who may deliver which feed.

A partner's box decides who delivered, so the registry is the one home of that rule. It is
checked against the feed contracts when it is loaded: a feed no contract describes, a bank
code twice, or a bank feed without a bank code stops the pipeline with one Dutch line.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import yaml

from dvcc_pipeline.config import FEEDS, partners_file
from dvcc_pipeline.contracts.loader import load_contract, read_yaml
from dvcc_pipeline.contracts.model import ContractError, FeedContract, FileIdentity

_ID = re.compile(r"^[a-z][a-z0-9_]*(?:_[A-Z0-9]+)?$")

DEFAULT_SETTLE_SECONDS = 60.0
"""How long a box file must stay unchanged before it is taken in, unless the registry says
otherwise: long enough for an SFTP upload that stalls (partner_feeds.md, delivery protocol)."""


@dataclass(frozen=True)
class Partner:
    """One delivering organisation and what it may deliver."""

    id: str
    name: str
    contact: str
    feeds: tuple[str, ...]
    bank_code: str | None = None
    settle_seconds: float = DEFAULT_SETTLE_SECONDS
    """Seconds a file in this partner's `in/` must stay unchanged before it is taken in."""

    def refusal(self, contract: FeedContract, identity: FileIdentity) -> str | None:
        """Why this partner may not deliver a file the name says is `identity` of `contract`
        (Dutch), or None when it may."""
        if contract.feed_id not in self.feeds:
            return (
                f"deze naam hoort bij feed {contract.feed_id}, die {self.id} niet levert; "
                f"{self.id} levert {', '.join(self.feeds)}"
            )
        if _names_supplier(contract) and identity.supplier != self.bank_code:
            return (
                f"de naam noemt leverancier {identity.supplier}, maar dit is de box van {self.id} "
                f"(bankcode {self.bank_code}); lever alleen bestanden met uw eigen bankcode"
            )
        return None


class PartnerRegistryError(ContractError):
    """`partners.yaml` is missing, unreadable or does not fit the feed contracts."""


def _names_supplier(contract: FeedContract) -> bool:
    """True when the feed's file name carries the supplier (the banks' feed)."""
    return "supplier" in contract.file.name_pattern.groupindex


def _supplier_codes(feeds: list[str]) -> set[str]:
    """The supplier codes the contracts' name patterns list (`(?P<supplier>ABNA|INGB|...)`)."""
    codes: set[str] = set()
    for feed_id in feeds:
        found = re.search(r"\(\?P<supplier>([A-Z0-9|]+)\)", load_contract(feed_id).file.name_pattern.pattern)
        if found:
            codes.update(found.group(1).split("|"))
    return codes


def parse_partners(data: object, source: str = "partners.yaml") -> dict[str, Partner]:
    """Build and check the registry; every problem is one Dutch line naming the partner."""
    entries = data.get("partners") if isinstance(data, dict) else None
    if not isinstance(entries, list) or not entries:
        raise PartnerRegistryError(f"{source}: verwacht een lijst `partners:` met minstens één partner")
    default_settle = _seconds(data.get("settle_seconds", DEFAULT_SETTLE_SECONDS), f"{source}: settle_seconds")
    partners: dict[str, Partner] = {}
    bank_codes: dict[str, str] = {}
    for number, entry in enumerate(entries, start=1):
        if not isinstance(entry, dict):
            raise PartnerRegistryError(f"{source}: partner {number} is geen mapping met id, name, contact en feeds")
        missing = [key for key in ("id", "name", "contact", "feeds") if not entry.get(key)]
        if missing:
            raise PartnerRegistryError(f"{source}: partner {number} mist {', '.join(missing)}")
        pid = str(entry["id"])
        if not _ID.fullmatch(pid):
            raise PartnerRegistryError(
                f"{source}: partner-id `{pid}` is geen geldige mapnaam (kleine letters, cijfers, _)"
            )
        if pid in partners:
            raise PartnerRegistryError(f"{source}: partner `{pid}` staat er twee keer in")
        feeds = entry["feeds"]
        if not isinstance(feeds, list) or not all(isinstance(f, str) for f in feeds):
            raise PartnerRegistryError(f"{source}: feeds van `{pid}` moet een lijst feed-id's zijn")
        unknown = [f for f in feeds if f not in FEEDS]
        if unknown:
            raise PartnerRegistryError(
                f"{source}: partner `{pid}` levert onbekende feed {', '.join(unknown)}; "
                f"bekende feeds: {', '.join(FEEDS)}"
            )
        code = entry.get("bank_code")
        code = str(code) if code else None
        needs_code = any(_names_supplier(load_contract(f)) for f in feeds)
        if needs_code and not code:
            raise PartnerRegistryError(f"{source}: partner `{pid}` levert een bankfeed maar heeft geen bank_code")
        if code:
            if not needs_code:
                raise PartnerRegistryError(f"{source}: partner `{pid}` heeft een bank_code maar levert geen bankfeed")
            if code in bank_codes:
                raise PartnerRegistryError(
                    f"{source}: bankcode {code} staat bij zowel `{bank_codes[code]}` als `{pid}`; "
                    "één bankcode hoort bij één partner"
                )
            if pid != f"bank_{code}":
                raise PartnerRegistryError(f"{source}: de partner met bankcode {code} heet `bank_{code}`, niet `{pid}`")
            codes = _supplier_codes(feeds)
            if codes and code not in codes:
                raise PartnerRegistryError(
                    f"{source}: bankcode {code} van `{pid}` staat niet in het datacontract; "
                    f"bekende bankcodes: {', '.join(sorted(codes))}"
                )
            bank_codes[code] = pid
        settle = _seconds(entry.get("settle_seconds", default_settle), f"{source}: settle_seconds van `{pid}`")
        partners[pid] = Partner(pid, str(entry["name"]), str(entry["contact"]), tuple(feeds), code, settle)
    return partners


def _seconds(value: object, what: str) -> float:
    """A settle window: a number of seconds, zero or more."""
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        raise PartnerRegistryError(f"{what} moet een aantal seconden zijn (0 of meer), niet {value!r}")
    return float(value)


def read_partners(path: Path) -> dict[str, Partner]:
    """Read and check a registry file."""
    try:
        data = read_yaml(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise PartnerRegistryError(f"partnerregister {path.name} ontbreekt") from exc
    except yaml.YAMLError as exc:
        raise PartnerRegistryError(f"{path.name} is geen geldige YAML: {exc}") from exc
    return parse_partners(data, path.name)


def load_partners() -> dict[str, Partner]:
    """The registry of this deployment, checked once per process (per registry file)."""
    return _cached(partners_file())


@cache
def _cached(path: Path) -> dict[str, Partner]:
    return read_partners(path)
