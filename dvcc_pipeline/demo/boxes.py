"""The demo as partners deliver: every partner's files moved from landing into its own box.

The generator writes `landing/<feed>/` (the benchmark and `dvcc generate` keep using that);
the demo then moves each file a partner would deliver into `partners/<partner>/in/`. The
Veiligheidsmonitor stays in landing: CBS publishes it openly and the data team drops it
itself, so the data team's own path is exercised too. Files whose name fits no feed stay
where the generator put them. One extra file shows a bank posing as another.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from dvcc_pipeline.config import Settings
from dvcc_pipeline.contracts import load_contract, load_partners

DATA_TEAM_FEEDS = ("veiligheidsmonitor",)
"""Feeds the demo leaves in `landing/<feed>/`: the data team's own drops."""

POSER, POSED_AS, POSED_PERIOD = "bank_ABNA", "RABO", "2025-03"
"""The extra demo file: ABN AMRO delivers its own March 2025 file under Rabobank's name."""


def partner_for(feed_id: str, supplier: str) -> str | None:
    """The registered partner that delivers `feed_id` (for banks: with this bank code)."""
    for partner in load_partners().values():
        if feed_id in partner.feeds and partner.bank_code in (None, supplier):
            return partner.id
    return None


def drop_into_boxes(settings: Settings, root: Path) -> int:
    """Move every partner file in `root/<feed>/` into its partner's `in/`; returns how many."""
    settings.ensure_boxes(load_partners())
    moved = 0
    for folder in sorted(p for p in root.iterdir() if p.is_dir() and p.name not in DATA_TEAM_FEEDS):
        contract = load_contract(folder.name)
        for file in sorted(folder.iterdir()):
            identity = contract.identify(file.name)
            partner = partner_for(contract.feed_id, identity.supplier) if identity else None
            if partner is not None:
                shutil.move(str(file), settings.box_in(partner) / file.name)
                moved += 1
    return moved


def drop_posing_file(settings: Settings) -> Path | None:
    """ABN AMRO's own file of POSED_PERIOD, dropped in its box under Rabobank's name."""
    own = settings.box_in(POSER) / f"{POSER}_{POSED_PERIOD}.csv"
    if not own.is_file():
        return None
    target = settings.box_in(POSER) / f"bank_{POSED_AS}_{POSED_PERIOD}.csv"
    shutil.copy(own, target)
    return target


def box_listing(settings: Settings) -> list[str]:
    """Per partner what its `uit/` holds (Dutch lines for the demo's output)."""
    lines = []
    for partner_id in load_partners():
        out = settings.box_out(partner_id)
        files = sorted(p.name for p in out.iterdir() if not p.name.startswith(".")) if out.is_dir() else []
        receipts = [name for name in files if name.endswith(".json")]
        if receipts:
            lines.append(
                f"partners/{partner_id}/uit/: {len(receipts)} ontvangstbewijzen (JSON en Markdown) en overzicht.md"
            )
        else:
            lines.append(f"partners/{partner_id}/uit/: leeg (niets via de box geleverd)")
    return lines
