"""The informatiebeeld as a Dagster asset, downstream of the published file.

It reads only `published`, so it runs after every new publication and its metadata links the
index page and every report file, which the UI shows as clickable paths.
"""

import dagster as dg

from dvcc_pipeline.config import get_settings
from dvcc_pipeline.reporting import write_reports

REPORTING_GROUP = "rapportage"
REPORTS_KEY = dg.AssetKey(["informatiebeeld"])


@dg.asset(
    key=REPORTS_KEY,
    group_name=REPORTING_GROUP,
    deps=[dg.AssetKey(["published"])],
    kinds={"html"},
    description=(
        "Het informatiebeeld voor de driehoek: per basisteam en per gemeente een rapport (HTML, af te drukken "
        "op A4) over het laatste gepubliceerde kwartaal, alleen uit de gepubliceerde tabellen."
    ),
)
def informatiebeeld(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
    settings = get_settings()
    written = write_reports(settings)
    if not written and not settings.published_path.exists():
        raise dg.Failure("Geen rapporten geschreven: er is nog geen publicatie.")
    if not written:  # a new home whose partners so far sent no quarterly figures (the programme, CBS)
        reason = "nog geen kwartaal met cijfers gepubliceerd: politie, banken en Fraudehelpdesk leverden nog niets"
        context.log.info(f"Geen rapporten: {reason}.")
        return dg.MaterializeResult(metadata={"rapporten": 0, "toelichting": reason})
    index = settings.reports_dir / "index.html"
    context.log.info(f"{len(written)} rapporten; overzicht: {index}")
    return dg.MaterializeResult(
        metadata={
            "overzicht": dg.MetadataValue.url(index.as_uri()),
            "pad": dg.MetadataValue.path(str(index)),
            "kwartaal": written[0].parent.name,
            "rapporten": len(written),
            "bestanden": dg.MetadataValue.md("\n".join(f"- [{p.stem}]({p.as_uri()})" for p in written)),
        }
    )


REPORT_ASSETS = [informatiebeeld]
