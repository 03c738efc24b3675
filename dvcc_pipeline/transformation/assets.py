"""Every dbt seed and model as a Dagster asset; dbt tests as asset checks.

One `dbt build` per run for the whole selection: dbt costs seconds of start-up per call, so
it is never invoked per file or per partition.
"""

from collections.abc import Iterator, Mapping
from typing import Any

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DagsterDbtTranslatorSettings, DbtCliResource, dbt_assets

from dvcc_pipeline.faults import checkpoint
from dvcc_pipeline.transformation.project import dbt_project, ensure_manifest, invocation_target
from dvcc_pipeline.warehouse import WAREHOUSE_POOL

LAYER_GROUPS = {"staging": "staging", "intermediate": "intermediate", "marts": "marts"}


class DvccDbtTranslator(DagsterDbtTranslator):
    """Groups assets by layer: seeds in `referentie`, models by their folder."""

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        if dbt_resource_props["resource_type"] == "seed":
            return "referentie"
        fqn = dbt_resource_props.get("fqn", [])
        layer = fqn[1] if len(fqn) > 2 else ""
        return LAYER_GROUPS.get(layer, "transformatie")

    def get_description(self, dbt_resource_props: Mapping[str, Any]) -> str:
        """The model's own Dutch description and where its SQL lives, as plain paragraphs.

        The default appends the SQL under a `#### Raw SQL:` heading, which several views of
        the UI show as raw text; the SQL is one click away in the repository anyway.
        """
        kind = {"seed": "Referentietabel", "model": "dbt-model", "snapshot": "Snapshot"}.get(
            dbt_resource_props["resource_type"], "dbt"
        )
        own = (dbt_resource_props.get("description") or "").strip()
        where = dbt_resource_props.get("original_file_path")
        source = f"{kind} {dbt_resource_props['name']}" + (f", gedefinieerd in dbt_project/{where}." if where else ".")
        return f"{own}\n\n{source}" if own else source


class DbtBuildConfig(dg.Config):
    """Run configuration of the dbt step."""

    volledig_herbouwen: bool = False
    """Bouw ook de incrementele modellen opnieuw op (nodig na een wijziging in macro's of dbt-vars)."""


def dbt_build_args(full_refresh: bool) -> list[str]:
    """The dbt command: incremental by delivery unless a full rebuild is asked for.

    dbt's unit tests test the SQL, not the data: they run in the test suite (`make test`),
    as dbt recommends, and not in every production build.
    """
    build = ["build", "--exclude-resource-type", "unit_test"]
    return [*build, "--full-refresh"] if full_refresh else build


TRANSLATOR = DvccDbtTranslator(
    settings=DagsterDbtTranslatorSettings(enable_asset_checks=True, enable_source_tests_as_checks=True)
)


@dbt_assets(
    manifest=ensure_manifest(),
    project=dbt_project,
    dagster_dbt_translator=TRANSLATOR,
    pool=WAREHOUSE_POOL,
)
def dvcc_dbt_assets(context: dg.AssetExecutionContext, dbt: DbtCliResource, config: DbtBuildConfig) -> Iterator[Any]:
    """Seeds, staging, intermediate and marts, built and tested by dbt."""
    build = dbt.cli(dbt_build_args(config.volledig_herbouwen), context=context, target_path=invocation_target(context))
    for number, event in enumerate(build.stream()):
        if number == 1:
            checkpoint("dbt")  # the fault tests die here, with dbt half-way through its build
        yield event
