"""Generate an Apache Airflow DAG file for a project (`afluente airflow export`).

Teams that already run Airflow want afluente's tables in it, not a second scheduler. The
export is plain text: one DAG per entry of `schedules:` (or one unscheduled DAG for the whole
project), one task per model or per layer, each task a shell call to `afluente run --select`.
The file imports only Airflow and the standard library, so it loads in an Airflow
environment where afluente is not importable; afluente itself only has to be on the workers'
PATH (or named with `--afluente-command`).

Each task builds its models on the engine the project gives them (`engine:`, a model's own
`engine:` of `engines:`), exactly as `afluente run` does: a Spark project's tasks are Spark
drivers of the project's master or Connect URL. The export checks those engines as
`validate` does and writes them into the file: each task's documentation names the engine
and where it runs, and each DAG is tagged `engine:<name>` per engine its tasks use.

Retries move to Airflow: the `run:` block and each model's `retries`/`timeout` become task
arguments, and every task calls afluente with `--retries 0` so a failure is retried once, by
Airflow, and shows up there. The text is a pure function of the project, the graph and the
options: the same inputs give byte-identical output (everything is sorted).
"""

from __future__ import annotations

import json
import re
import shlex
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Literal

from afluente.config import Project
from afluente.config.orchestration import RunSettings, ScheduleSpec
from afluente.engines.registry import engine_settings, validate_engine
from afluente.errors import ConfigError, ModelError
from afluente.model.graph import Graph
from afluente.model.refs import TableRef
from afluente.model.selector import select
from afluente.runtime.engine_fit import check_engine_fits, model_engine
from afluente.runtime.stream import stream_selector
from afluente.scheduler.checks import validate_orchestration

GroupBy = Literal["model", "layer"]
_UNSAFE_ID = re.compile(r"[^A-Za-z0-9_.\-]")


@dataclass(frozen=True)
class ExportOptions:
    """How the DAG file calls afluente, and how tasks are cut."""

    project_dir: str  # the project folder as the Airflow workers see it
    start_date: date
    group_by: GroupBy = "model"
    afluente_command: str = "afluente"  # a shell snippet: `afluente`, `/opt/venv/bin/afluente`
    environment: str | None = None  # `--env` passed on to every task


@dataclass(frozen=True)
class TaskSpec:
    """One Airflow task: what it selects and what it overrides of the DAG's defaults."""

    task_id: str
    select: str
    upstream: tuple[str, ...]
    retries: int | None = None
    timeout: timedelta | None = None
    engines: tuple[str, ...] = ()  # where its models run: `spark (spark://host:7077)`


@dataclass(frozen=True)
class DagSpec:
    """One Airflow DAG: a schedule of the project (or the whole unscheduled project)."""

    dag_id: str
    description: str
    cron: str | None
    timezone: str
    catchup: bool
    full_refresh: bool
    tasks: tuple[TaskSpec, ...]
    stream: bool = False  # its one task runs an available-now stream


# -- planning: project + graph → DagSpecs -------------------------------------------------------


def plan_dags(project: Project, graph: Graph, options: ExportOptions) -> list[DagSpec]:
    """The DAGs of the export, sorted by schedule name.

    Cron expressions, timezones and selectors are checked first (as `afluente validate`
    does), so a mistake names its line in `afluente.yml` instead of surfacing as an Airflow
    import error.
    """
    validate_orchestration(project, graph)
    validate_engine(project)
    check_engine_fits(project, graph, graph.order)
    engines = _model_engines(project, graph)
    name = project.config.name
    schedules = project.config.schedules
    if not schedules:
        tasks = _tasks(graph, set(graph.nodes), options.group_by, engines)
        return [DagSpec(_safe_id(name), f"afluente project {name}: every table", None, "UTC",
                        False, False, tasks)]
    dags = [_scheduled_dag(project, graph, key, spec, options, engines)
            for key, spec in sorted(schedules.items())]
    _check_unique([d.dag_id for d in dags], "DAG id", "rename one of the schedules")
    return dags


def _model_engines(project: Project, graph: Graph) -> dict[TableRef, str]:
    """Each model's engine as the file shows it: its name, its type when the name is not
    one, and where it runs when that is not the task's own process (`spark at
    spark://host:7077`). Sources have none: they are ingested by afluente's readers."""
    shown: dict[str, str] = {}
    engines = {}
    for ref, node in graph.nodes.items():
        if node.language == "source":
            continue
        label = model_engine(project, node)
        if label not in shown:
            settings = engine_settings(project, label)
            text = label if label == settings.type else f"{label} ({settings.type})"
            where = getattr(settings, "connect_url", None) or getattr(settings, "master", None)
            shown[label] = f"{text} at {where}" if where else text
        engines[ref] = shown[label]
    return engines


def _scheduled_dag(
    project: Project, graph: Graph, key: str, spec: ScheduleSpec, options: ExportOptions,
    engines: dict[TableRef, str],
) -> DagSpec:
    if spec.stream:
        tasks: tuple[TaskSpec, ...] = (_stream_task(project, graph, spec, engines),)
    else:
        tasks = _tasks(graph, select(graph, spec.select), options.group_by, engines)
    what = spec.select or ("the streaming sources and their downstream" if spec.stream
                           else "every table")
    description = spec.description or f"afluente schedule {key}: {what}"
    return DagSpec(
        dag_id=_safe_id(f"{project.config.name}_{key}"),
        description=description,
        cron=spec.cron,
        timezone=spec.timezone,
        catchup=spec.catch_up == "all",
        full_refresh=spec.full_refresh,
        tasks=tasks,
        stream=spec.stream,
    )


def _stream_task(project: Project, graph: Graph, spec: ScheduleSpec,
                 engines: dict[TableRef, str]) -> TaskSpec:
    """One task for the whole stream: a micro-batch ingests and builds everything
    downstream together, so it is not cut into tasks per model."""
    chosen = select(graph, stream_selector(project, spec.select))
    return TaskSpec(
        task_id="stream",
        select=spec.select or "",
        upstream=(),
        engines=tuple(sorted({engines[ref] for ref in chosen if ref in engines})),
    )


def _tasks(
    graph: Graph, selected: set[TableRef], group_by: GroupBy, engines: dict[TableRef, str]
) -> tuple[TaskSpec, ...]:
    """Tasks in the graph's (deterministic, topological) order."""
    edges = selected_edges(graph, selected)
    ordered = [ref for ref in graph.order if ref in selected]
    if group_by == "layer":
        return _layer_tasks(graph, ordered, edges, engines)
    ids = {ref: _safe_id(str(ref)) for ref in ordered}
    _check_unique(list(ids.values()), "task id", "rename one of the tables")
    return tuple(
        TaskSpec(
            task_id=ids[ref],
            select=str(ref),
            upstream=tuple(sorted(ids[up] for up, down in edges if down == ref)),
            retries=graph.nodes[ref].config.retries,
            timeout=graph.nodes[ref].config.timeout,
            engines=(engines[ref],) if ref in engines else (),
        )
        for ref in ordered
    )


def selected_edges(graph: Graph, selected: set[TableRef]) -> set[tuple[TableRef, TableRef]]:
    """(upstream, downstream) pairs among `selected`, looking through unselected tables.

    When a schedule selects `a` and `c` of `a → b → c`, `c` must still wait for `a`.
    """
    edges: set[tuple[TableRef, TableRef]] = set()
    for ref in selected:
        seen: set[TableRef] = set()
        stack = list(graph.nodes[ref].upstream)
        while stack:
            up = stack.pop()
            if up in seen:
                continue
            seen.add(up)
            if up in selected:
                edges.add((up, ref))
            else:
                stack.extend(graph.nodes[up].upstream)
    return edges


def _layer_tasks(
    graph: Graph, ordered: list[TableRef], edges: set[tuple[TableRef, TableRef]],
    engines: dict[TableRef, str],
) -> tuple[TaskSpec, ...]:
    layers = list(dict.fromkeys(ref.layer for ref in ordered))
    upstream = {layer: sorted({u.layer for u, d in edges if d.layer == layer and u.layer != layer})
                for layer in layers}
    _check_layer_cycle(upstream)
    tasks = []
    for layer in layers:
        members = [ref for ref in ordered if ref.layer == layer]
        whole = len(members) == sum(1 for ref in graph.nodes if ref.layer == layer)
        tasks.append(TaskSpec(
            task_id=_safe_id(layer),
            select=f"layer:{layer}" if whole else " ".join(sorted(str(ref) for ref in members)),
            upstream=tuple(_safe_id(up) for up in upstream[layer]),
            retries=_max_or_none(graph.nodes[ref].config.retries for ref in members),
            timeout=_sum_or_none([graph.nodes[ref].config.timeout for ref in members]),
            engines=tuple(sorted({engines[ref] for ref in members if ref in engines})),
        ))
    return tuple(tasks)


def _check_layer_cycle(upstream: dict[str, list[str]]) -> None:
    done: set[str] = set()

    def visit(layer: str, path: tuple[str, ...]) -> None:
        if layer in path:
            cycle = " → ".join((*path[path.index(layer):], layer))
            raise ModelError(
                f"layers depend on each other in a cycle ({cycle}): one task per layer "
                "cannot order them",
                hint="export with --group-by model",
            )
        if layer not in done:
            for up in upstream[layer]:
                visit(up, (*path, layer))
            done.add(layer)

    for layer in upstream:
        visit(layer, ())


def _max_or_none(values: Iterable[int | None]) -> int | None:
    present = [v for v in values if v is not None]
    return max(present) if present else None


def _sum_or_none(values: list[timedelta | None]) -> timedelta | None:
    """A layer's timeout: the sum of its models' own timeouts, when every one has one."""
    if not values or any(v is None for v in values):
        return None
    return sum((v for v in values if v is not None), timedelta())


def _safe_id(text: str) -> str:
    """An Airflow id (letters, digits, `_`, `.`, `-`) from a project, schedule or table name."""
    return _UNSAFE_ID.sub("_", text)


def _check_unique(ids: list[str], what: str, hint: str) -> None:
    seen: set[str] = set()
    for value in ids:
        if value in seen:
            raise ModelError(f"two names give the same Airflow {what} `{value}`", hint=hint)
        seen.add(value)


# -- rendering: DagSpecs → Python source ----------------------------------------------------------


def render_dag_file(
    project: Project, dags: list[DagSpec], options: ExportOptions, regenerate: str
) -> str:
    """The DAG file's text: header, imports, shared defaults, then one `with DAG` block each."""
    base = _base_command(options)
    lines = [
        f"# Generated by `afluente airflow export` from the afluente project "
        f"`{project.config.name}`.",
        "# Do not edit: changes are lost when it is regenerated with",
        f"#   {regenerate}",
        "# Each task runs `afluente run --select ...`; retries are Airflow's (afluente's are off).",
        *(["# A `stream: true` schedule's one task runs `afluente stream --trigger available-now`."]
          if any(d.stream for d in dags) else []),
        f'"""Airflow DAGs for the afluente project {project.config.name}."""',
        "",
        "from __future__ import annotations",
        "",
        "import datetime as dt",
        "",
        "import pendulum",
        "from airflow.providers.standard.operators.bash import BashOperator",
        "from airflow.sdk import DAG",
        "",
        f"AFLUENTE = {_str(shlex.join(base))}",
        "",
        *_default_args(project.config.run),
    ]
    for dag in dags:
        lines += ["", "", *_dag_block(dag, options.start_date)]
    return "\n".join(lines) + "\n"


def _base_command(options: ExportOptions) -> list[str]:
    try:
        command = shlex.split(options.afluente_command)
    except ValueError as exc:
        command, problem = [], str(exc)
    else:
        problem = "it is empty"
    if not command:
        raise ConfigError(
            f"--afluente-command {options.afluente_command!r} is not a command: {problem}",
            hint="pass the afluente executable as the Airflow workers see it, "
            "e.g. --afluente-command /opt/venvs/afluente/bin/afluente",
        )
    base = [*command, "-p", options.project_dir]
    return [*base, "--env", options.environment] if options.environment else base


def _default_args(run: RunSettings) -> list[str]:
    lines = [
        "DEFAULT_ARGS = {",
        '    "owner": "afluente",',
        f'    "retries": {run.retries},',
        f'    "retry_delay": {_timedelta(run.retry_delay)},',
        '    "retry_exponential_backoff": True,',
        f'    "max_retry_delay": {_timedelta(run.retry_max_delay)},',
    ]
    if run.timeout is not None:
        lines.append(f'    "execution_timeout": {_timedelta(run.timeout)},')
    return [*lines, "}"]


def _dag_block(dag: DagSpec, start: date) -> list[str]:
    schedule = _str(dag.cron) if dag.cron else "None"
    lines = [
        "with DAG(",
        f"    dag_id={_str(dag.dag_id)},",
        f"    description={_str(dag.description)},",
        f"    schedule={schedule},",
        f"    start_date=pendulum.datetime({start.year}, {start.month}, {start.day}, "
        f"tz={_str(dag.timezone)}),",
        f"    catchup={dag.catchup},",
        "    max_active_runs=1,",
        "    default_args=DEFAULT_ARGS,",
        f"    tags={_tags(dag)},",
        "):",
        "    tasks = {}",
    ]
    for task in dag.tasks:
        lines += _task_block(task, dag.full_refresh, dag.stream)
    for task in dag.tasks:
        for up in task.upstream:
            lines.append(f"    tasks[{_str(up)}] >> tasks[{_str(task.task_id)}]")
    return lines


def _task_block(task: TaskSpec, full_refresh: bool, stream: bool = False) -> list[str]:
    if stream:  # micro-batches until drained; each retries transient errors as `run` does
        args = ["stream", "--trigger", "available-now"]
        args += ["--select", task.select] if task.select else []
    else:
        args = ["run", "--select", task.select, "--retries", "0"]
    if full_refresh:
        args.append("--full-refresh")
    lines = [
        f"    tasks[{_str(task.task_id)}] = BashOperator(",
        f"        task_id={_str(task.task_id)},",
        f"        bash_command=AFLUENTE + {_str(' ' + shlex.join(args))},",
    ]
    if task.engines:
        engines = ("the engine " if len(task.engines) == 1 else "the engines ") + \
            " and ".join(task.engines)
        built = f"`{task.select}`" if task.select else "the streaming sources' downstream"
        lines.append(f"        doc_md={_str(f'Builds {built} on {engines}.')},")
    if task.retries is not None:
        lines.append(f"        retries={task.retries},")
    if task.timeout is not None:
        lines.append(f"        execution_timeout={_timedelta(task.timeout)},")
    return [*lines, "    )"]


def _tags(dag: DagSpec) -> str:
    names = sorted({e.split(" ")[0] for task in dag.tasks for e in task.engines})
    return "[" + ", ".join(_str(t) for t in ["afluente", *(f"engine:{n}" for n in names)]) + "]"


def _str(value: str) -> str:
    """A double-quoted Python string literal (JSON string syntax is valid Python)."""
    return json.dumps(value, ensure_ascii=False)


def _timedelta(value: timedelta) -> str:
    seconds = value.total_seconds()
    shown = int(seconds) if seconds.is_integer() else seconds
    return f"dt.timedelta(seconds={shown})"
