"""Every dbt seed and model as a Dagster asset; its dbt tests as one asset check per model.

One `dbt build` per run for the whole selection: dbt costs seconds of start-up per call, so
it is never invoked per file or per partition.
"""

from collections.abc import Iterator, Mapping
from typing import Any

import dagster as dg
from dagster_dbt import (
    DagsterDbtCliRuntimeError,
    DagsterDbtTranslator,
    DagsterDbtTranslatorSettings,
    DbtCliResource,
    DbtProject,
    dbt_assets,
)

from dvcc_pipeline.runtime.faults import checkpoint
from dvcc_pipeline.runtime.warehouse import WAREHOUSE_POOL
from dvcc_pipeline.transformation.checks import TestSummary, check_spec, test_targets
from dvcc_pipeline.transformation.project import dbt_project, ensure_manifest, invocation_target

LAYER_GROUPS = {"staging": "staging", "intermediate": "intermediate", "marts": "marts"}


_TARGETS: dict[int, dict[str, list[str]]] = {}


def _targets(manifest: Mapping[str, Any]) -> dict[str, list[str]]:
    """`test_targets` once per manifest object (the translator asks for every test)."""
    if id(manifest) not in _TARGETS:
        _TARGETS.clear()
        _TARGETS[id(manifest)] = test_targets(manifest)
    return _TARGETS[id(manifest)]


class DvccDbtTranslator(DagsterDbtTranslator):
    """Groups assets by layer: seeds in `referentie`, models by their folder; one `dbt_tests`
    check per tested model or seed instead of one check per test (`checks.py`)."""

    def get_asset_check_spec(
        self,
        asset_spec: dg.AssetSpec,
        manifest: Mapping[str, Any],
        unique_id: str,
        project: DbtProject | None,
    ) -> dg.AssetCheckSpec | None:
        targets = _targets(manifest)
        nodes = {**manifest.get("sources", {}), **manifest["nodes"]}
        mine = [t for t in targets.get(unique_id, []) if self.get_asset_key(nodes[t]) == asset_spec.key]
        if not mine:
            return None
        tests = [test for test, tested in targets.items() if mine[0] in tested]
        return check_spec(asset_spec.key, tests)

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


# Source tests are not checks: a `dbt_tests` check on a raw asset is not one dbt test, and
# dagster-dbt selects the tests behind a check on an asset outside the dbt step by the check's
# own test. They run in every build with the models that read the source, and a failing one is
# named in the run's log, the step's failure and `dvcc run`'s output (`checks.TestSummary`).
TRANSLATOR = DvccDbtTranslator(settings=DagsterDbtTranslatorSettings(enable_asset_checks=True))


@dbt_assets(
    manifest=ensure_manifest(),
    project=dbt_project,
    dagster_dbt_translator=TRANSLATOR,
    pool=WAREHOUSE_POOL,
)
def dvcc_dbt_assets(context: dg.AssetExecutionContext, dbt: DbtCliResource, config: DbtBuildConfig) -> Iterator[Any]:
    """Seeds, staging, intermediate and marts, built and tested by dbt.

    dbt's test results are gathered per model and reported after the build as one check
    each (`checks.py`); every other dbt event becomes Dagster's usual events.
    """
    invocation = dbt.cli(
        dbt_build_args(config.volledig_herbouwen), context=context, target_path=invocation_target(context)
    )
    manifest = invocation.manifest
    nodes = {**manifest.get("sources", {}), **manifest["nodes"]}
    summary = TestSummary(
        targets=_targets(manifest),
        key_of={uid: TRANSLATOR.get_asset_key(node) for uid, node in nodes.items() if node["resource_type"] != "test"},
    )
    reported = set(context.selected_asset_check_keys)
    yielded, error = 0, None
    try:
        for event in invocation.stream_raw_events():
            if summary.take(event.raw_event, context.log):
                continue
            for dagster_event in event.to_default_asset_events(
                manifest=manifest,
                dagster_dbt_translator=invocation.dagster_dbt_translator,
                context=context,
                target_path=invocation.target_path,
                project=invocation.project,
            ):
                if yielded == 1:
                    checkpoint("dbt")  # the fault tests die here, with dbt half-way through its build
                yielded += 1
                yield dagster_event
    except DagsterDbtCliRuntimeError as exc:  # a failed test or model: report the checks first
        error = exc
    yield from summary.results(reported)
    failed = summary.failure_lines()
    if error is not None and failed:  # the operator reads which tests, by name (headless prints it)
        raise dg.Failure(description="\n".join(failed)) from error
    if error is not None:
        raise error
