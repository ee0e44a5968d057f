"""OpenLineage events for runs: a Reporter that turns the run's model events into START and
COMPLETE/FAIL run events (with the pipeline run as parent) and sends them through the
transport configured under `openlineage:` in `afluente.yml`.

Run ids are UUIDs derived from afluente's run id (and the model), so a resumed run and a
re-sent event keep their identity."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from afluente.config import Project
from afluente.errors import AfluenteError, ConfigError, Location
from afluente.lineage import ColumnEdge, ModelLineage, update_lineage
from afluente.lineage.dataset_naming import DatasetName, dataset_name
from afluente.lineage.model import SOURCE_PREFIX
from afluente.model import Graph, TableRef
from afluente.storage import Warehouse

if TYPE_CHECKING:
    from openlineage.client import OpenLineageClient
    from openlineage.client.event_v2 import InputDataset, OutputDataset, RunEvent

    from afluente.connectors import IngestStats
    from afluente.runtime.planner import Plan, PlanStep
    from afluente.runtime.reporter import Reporter
    from afluente.runtime.results import ModelResult, RunResult

log = logging.getLogger("afluente.openlineage")
PRODUCER = "https://github.com/afluente/afluente"
_SUBTYPES = {"identity": "IDENTITY", "transformation": "TRANSFORMATION",
             "aggregation": "AGGREGATION"}
_INDIRECT = {"filter": "FILTER", "join": "JOIN", "group by": "GROUP_BY"}


def run_uuid(run_id: str, model: str | None = None) -> str:
    """A stable UUID for the pipeline run, or for one model within it."""
    key = f"afluente:{run_id}" + (f":{model}" if model else "")
    return str(uuid.uuid5(uuid.NAMESPACE_URL, key))


def make_client(project: Project) -> OpenLineageClient | None:
    """The client for the configured transport, or None for `transport: none` (then the
    OpenLineage library, about half a second of imports, is never loaded)."""
    config = project.config.openlineage
    if config.transport == "none":
        return None
    from openlineage.client import OpenLineageClient
    from openlineage.client.transport.console import ConsoleConfig, ConsoleTransport
    from openlineage.client.transport.file import FileConfig, FileTransport
    from openlineage.client.transport.http import HttpConfig, HttpTransport

    if config.transport == "file":
        path = project.root / config.path
        path.parent.mkdir(parents=True, exist_ok=True)
        return OpenLineageClient(transport=FileTransport(FileConfig(str(path), append=True)))
    if config.transport == "console":
        return OpenLineageClient(transport=ConsoleTransport(ConsoleConfig()))
    if not config.url:
        raise ConfigError("openlineage: `transport: http` needs a `url`",
                          location=Location(project.file),
                          hint="add `url: http://marquez:5000` under `openlineage:`")
    return OpenLineageClient(transport=HttpTransport(HttpConfig(
        url=config.url, endpoint=config.endpoint, retry={"total": 0})))


class OpenLineageEmitter:
    """Reporter that emits OpenLineage events; a failing transport is logged, never fatal."""

    def __init__(self, project: Project, graph: Graph, client: OpenLineageClient) -> None:
        self.project, self.graph, self.client = project, graph, client
        self.warehouse = Warehouse(project.warehouse_uri)
        self.namespace = project.config.openlineage.namespace or project.config.name
        self.lineage: dict[str, ModelLineage] = {}
        self.run_id = ""
        self.started: set[TableRef] = set()

    def plan_ready(self, run_id: str, plan: Plan) -> None:
        self.run_id = run_id
        for ref in self.graph.order:
            update_lineage(self.graph[ref], self._columns, self.lineage, warn=False)
        self._send(self._pipeline_event("START"))

    def model_started(self, step: PlanStep) -> None:
        self.started.add(step.ref)
        self._send(self._model_event(step.ref, "START"))

    def model_finished(self, result: ModelResult) -> None:
        if result.ref not in self.started:
            return  # up to date or skipped: nothing ran
        update_lineage(self.graph[result.ref], self._columns, self.lineage)
        kind = "FAIL" if result.status == "failed" else "COMPLETE"
        self._send(self._model_event(result.ref, kind, result))

    def ingest_progress(self, ref: TableRef, stats: IngestStats) -> None:
        return None

    def run_finished(self, result: RunResult) -> None:
        self._send(self._pipeline_event("FAIL" if result.status == "failed" else "COMPLETE",
                                        result.error))

    def _columns(self, ref: TableRef) -> Sequence[str] | None:
        schema = self.warehouse.schema(ref)
        return list(schema.names) if schema is not None else None

    def _send(self, event: RunEvent) -> None:
        try:
            self.client.emit(event)
        except Exception as exc:  # lineage must never fail a run
            log.warning("OpenLineage event not sent (%s): %s", type(exc).__name__, exc)

    def _pipeline_event(self, kind: str, error: str | None = None) -> RunEvent:
        from openlineage.client.event_v2 import Job, Run, RunEvent, RunState

        facets = {"jobType": _job_type("DAG")}
        run_facets = {"errorMessage": _error_message(error)} if error else {}
        return RunEvent(eventType=RunState[kind], eventTime=_now(), producer=PRODUCER,
                        run=Run(runId=run_uuid(self.run_id), facets=run_facets),
                        job=Job(namespace=self.namespace, name=self.project.config.name,
                                facets=facets))

    def _model_event(self, ref: TableRef, kind: str, result: ModelResult | None = None) -> RunEvent:
        from openlineage.client.event_v2 import Job, Run, RunEvent, RunState

        node = self.graph[ref]
        return RunEvent(
            eventType=RunState[kind], eventTime=_now(), producer=PRODUCER,
            run=Run(runId=run_uuid(self.run_id, str(ref)), facets=self._run_facets(result)),
            job=Job(namespace=self.namespace, name=str(ref), facets=self._job_facets(ref)),
            inputs=self._inputs(ref, result), outputs=[self._output(ref, node.sql, result)],
        )

    def _run_facets(self, result: ModelResult | None) -> dict[str, Any]:
        from openlineage.client.generated import parent_run

        facets: dict[str, Any] = {"parent": parent_run.ParentRunFacet(
            run=parent_run.Run(runId=run_uuid(self.run_id)),
            job=parent_run.Job(namespace=self.namespace, name=self.project.config.name),
        )}
        if result is not None and result.status == "failed":
            message = result.error.render() if isinstance(result.error, AfluenteError) else (
                result.reason)
            facets["errorMessage"] = _error_message(message)
        return facets

    def _job_facets(self, ref: TableRef) -> dict[str, Any]:
        from openlineage.client.generated import source_code_location_job, sql_job

        node = self.graph[ref]
        facets: dict[str, Any] = {"jobType": _job_type(node.table_kind.job_type)}
        if node.sql:
            facets["sql"] = sql_job.SQLJobFacet(query=node.sql, dialect="duckdb")
        facets["sourceCodeLocation"] = source_code_location_job.SourceCodeLocationJobFacet(
            type="file", url=Path(node.location.file).resolve().as_uri())
        return facets

    def _inputs(self, ref: TableRef, result: ModelResult | None) -> list[InputDataset]:
        from openlineage.client.event_v2 import InputDataset

        model = self.lineage[str(ref)]
        read = result.versions_read if result else {}
        datasets = []
        for name in model.dataset.inputs:
            where = self._dataset_name(name)
            datasets.append(InputDataset(namespace=where.namespace, name=where.name,
                                         facets=self._dataset_facets(name, read.get(name))))
        return datasets

    def _output(self, ref: TableRef, sql: str | None, result: ModelResult | None
                ) -> OutputDataset:
        from openlineage.client.event_v2 import OutputDataset
        from openlineage.client.generated import output_statistics_output_dataset as stats

        name = str(ref)
        facets = self._dataset_facets(name, result.version if result else None)
        facets["columnLineage"] = self._column_lineage(self.lineage[name])
        output_facets: dict[str, Any] = {}
        if result is not None and result.rows is not None:
            output_facets["outputStatistics"] = stats.OutputStatisticsOutputDatasetFacet(
                rowCount=result.rows)
        if result is not None:
            facets.update(self._quality_facets(name, result))
        where = self._dataset_name(name)
        return OutputDataset(namespace=where.namespace, name=where.name, facets=facets,
                             outputFacets=output_facets)

    def _quality_facets(self, name: str, result: ModelResult) -> dict[str, Any]:
        """`dataQualityAssertions` and `dataQualityMetrics` when expectations ran on the
        model in this run (read back from the state store, where the run recorded them)."""
        from openlineage.client.generated import data_quality_assertions_dataset as dqa
        from openlineage.client.generated import data_quality_metrics_dataset as dqm

        rules = [r for r in self._quality_results() if r["model"] == name]
        if not rules:
            return {}
        assertions = [
            dqa.Assertion(
                assertion=str(r["kind"]), success=bool(r["passed"]), name=str(r["rule"]),
                severity="error" if r["action"] == "fail" else "warn",
                actual=f"{r['rows_failed']} failing rows",
                expected=f"at least {r['mostly']:.0%} of rows pass",
            )
            for r in rules
        ]
        evaluated = max(int(r["rows_evaluated"]) for r in rules)
        return {
            "dataQualityAssertions": dqa.DataQualityAssertionsDatasetFacet(assertions=assertions),
            "dataQualityMetrics": dqm.DataQualityMetricsDatasetFacet(
                columnMetrics={}, rowCount=result.rows if result.rows is not None else evaluated
            ),
        }

    def _quality_results(self) -> list[dict[str, Any]]:
        from afluente.state import StateStore

        try:
            store = StateStore.open(self.project.state_url)
        except Exception as exc:  # lineage must never fail a run
            log.warning("OpenLineage: quality results not read (%s): %s", type(exc).__name__, exc)
            return []
        try:
            return [r for r in store.quality_history() if r["run_id"] == self.run_id]
        finally:
            store.close()

    def _dataset_name(self, name: str) -> DatasetName:
        """`name` (`silver.orders`, `source:orders`) as OpenLineage names it: the Delta table's
        or the source's location, by the naming conventions."""
        model = self.lineage.get(name)
        if model is not None and model.dataset.language == "external":
            return dataset_name(model.dataset.location, self.project.root)
        return dataset_name(self.warehouse.uri(TableRef.parse(name)), self.project.root)

    def _dataset_facets(self, name: str, version: int | None) -> dict[str, Any]:
        from openlineage.client.generated import dataset_version_dataset as versions
        from openlineage.client.generated import datasource_dataset, schema_dataset

        model = self.lineage.get(name)
        where = self._dataset_name(name)
        facets: dict[str, Any] = {"dataSource": datasource_dataset.DatasourceDatasetFacet(
            name=where.namespace, uri=where.source_uri)}
        if not name.startswith(SOURCE_PREFIX):
            facets["symlinks"] = self._table_symlink(name)
        types = self._types(name)
        if model is not None and model.dataset.columns:
            facets["schema"] = schema_dataset.SchemaDatasetFacet(fields=[
                schema_dataset.SchemaDatasetFacetFields(name=c, type=types.get(c) or None)
                for c in model.dataset.columns])
        if version is not None:
            facets["version"] = versions.DatasetVersionDatasetFacet(datasetVersion=str(version))
        return facets

    def _table_symlink(self, name: str) -> Any:
        """The table's afluente name (`silver.orders`), beside its storage path."""
        from openlineage.client.generated import symlinks_dataset as links

        return links.SymlinksDatasetFacet(identifiers=[
            links.Identifier(namespace=self.namespace, name=name, type="TABLE")])

    def _types(self, name: str) -> dict[str, str]:
        if name.startswith("source:"):
            return {}
        schema = self.warehouse.schema(TableRef.parse(name))
        return {f.name: str(f.type) for f in schema} if schema is not None else {}

    def _column_lineage(self, model: ModelLineage) -> Any:
        from openlineage.client.generated import column_lineage_dataset as cl

        by_column: dict[str, list[ColumnEdge]] = {}
        for edge in model.edges:
            by_column.setdefault(edge.target.column, []).append(edge)
        fields = {column: cl.Fields(
            inputFields=[self._input_field(e) for e in edges],
            transformationType=_strongest(edges),
            transformationDescription="; ".join(sorted({e.detail for e in edges if e.detail})),
        ) for column, edges in sorted(by_column.items())}
        dataset = [self._input_field(e) for e in model.indirect]
        return cl.ColumnLineageDatasetFacet(fields=fields, dataset=dataset)

    def _input_field(self, edge: ColumnEdge) -> Any:
        from openlineage.client.generated import column_lineage_dataset as cl

        if edge.kind == "indirect":
            change = cl.Transformation(type="INDIRECT", subtype=_INDIRECT.get(edge.detail,
                                                                               "FILTER"))
        else:
            change = cl.Transformation(type="DIRECT", subtype=_SUBTYPES[edge.kind],
                                       description=edge.detail or None,
                                       masking=edge.masking)
        where = self._dataset_name(edge.source.dataset)
        return cl.InputField(namespace=where.namespace, name=where.name,
                             field=edge.source.column, transformations=[change])


def _strongest(edges: list[ColumnEdge]) -> str:
    """Marquez reads the field-level type: IDENTITY only when every input passes unchanged."""
    return "IDENTITY" if all(e.kind == "identity" for e in edges) else "TRANSFORMATION"


def _job_type(kind: str) -> Any:
    from openlineage.client.generated import job_type_job

    return job_type_job.JobTypeJobFacet(processingType="BATCH", integration="AFLUENTE",
                                        jobType=kind)


def _error_message(message: str) -> Any:
    from openlineage.client.generated import error_message_run

    return error_message_run.ErrorMessageRunFacet(message=message, programmingLanguage="python")


def _now() -> str:
    return datetime.now(UTC).isoformat()


class FanOut:
    """Send every reporter call to several reporters (the CLI's and the emitter)."""

    def __init__(self, *reporters: Reporter) -> None:
        self.reporters = reporters

    def plan_ready(self, run_id: str, plan: Plan) -> None:
        for r in self.reporters:
            r.plan_ready(run_id, plan)

    def model_started(self, step: PlanStep) -> None:
        for r in self.reporters:
            r.model_started(step)

    def model_finished(self, result: ModelResult) -> None:
        for r in self.reporters:
            r.model_finished(result)

    def ingest_progress(self, ref: TableRef, stats: IngestStats) -> None:
        for r in self.reporters:
            r.ingest_progress(ref, stats)

    def run_finished(self, result: RunResult) -> None:
        for r in self.reporters:
            r.run_finished(result)


def with_openlineage(project: Project, graph: Graph, reporter: Reporter) -> Reporter:
    """`reporter`, plus an OpenLineage emitter when the project configures a transport."""
    client = make_client(project)
    if client is None:
        return reporter
    return FanOut(reporter, OpenLineageEmitter(project, graph, client))
