"""`afluente validate` for `schedules:` and `sensors:`: the checks that need the graph.

The config layer checks each block's shape; here a cron expression must parse and fire,
a timezone must exist, a selector must match a table, a sensor must watch a files source
or a table of the project. Each error points at the offending key in `afluente.yml`.
"""

from __future__ import annotations

import difflib
import zoneinfo
from datetime import UTC, datetime

from croniter import CroniterError

from afluente.config import Project
from afluente.config.orchestration import ScheduleSpec, SensorSpec
from afluente.errors import AfluenteError, ConfigError
from afluente.model import Graph, TableRef, select
from afluente.scheduler.cron import CRON_FIELDS, CronSchedule

_CRON_HINT = f"five fields ({CRON_FIELDS}), e.g. '*/15 * * * *' or '0 6 * * *', or @daily"


def validate_orchestration(project: Project, graph: Graph) -> None:
    """Raise the first ConfigError found in the project's schedules and sensors."""
    for name, schedule in project.config.schedules.items():
        _check_schedule(project, graph, name, schedule)
    for name, sensor in project.config.sensors.items():
        _check_sensor(project, graph, name, sensor)


def _error(
    project: Project, path: tuple[str, ...], message: str, hint: str | None
) -> ConfigError:
    return ConfigError(message, location=project.source_doc().location(path), hint=hint)


def _check_schedule(project: Project, graph: Graph, name: str, spec: ScheduleSpec) -> None:
    at = ("schedules", name)
    problem = cron_problem(spec.cron)
    if problem:
        raise _error(project, (*at, "cron"),
                     f"schedule `{name}`: invalid cron expression {spec.cron!r}: {problem}",
                     _CRON_HINT)
    problem = timezone_problem(spec.timezone)
    if problem:
        raise _error(project, (*at, "timezone"),
                     f"schedule `{name}`: unknown timezone {spec.timezone!r}", problem)
    if not _fires(spec.cron, spec.timezone):
        raise _error(project, (*at, "cron"),
                     f"schedule `{name}`: cron expression {spec.cron!r} never fires",
                     "check the day of month against the month (there is no 30 February)")
    _check_selector(project, graph, at, f"schedule `{name}`", spec.select)


def cron_problem(expression: str) -> str | None:
    """Why `expression` is not a usable cron expression, or None."""
    fields = expression.split()
    if len(fields) != 5 and not (len(fields) == 1 and fields[0].startswith("@")):
        return f"{len(fields)} fields, afluente schedules take 5 (no seconds field)"
    try:
        CronSchedule(expression)._every_hour()
    except CroniterError as error:
        return str(error).replace(f"[{expression}] ", "")
    return None


def timezone_problem(name: str) -> str | None:
    """A hint when `name` is not an IANA timezone, or None."""
    try:
        zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        close = difflib.get_close_matches(name, sorted(zoneinfo.available_timezones()), n=3)
        if close:
            return "did you mean " + " or ".join(f"`{c}`" for c in close) + "?"
        return "use an IANA name such as UTC, America/Sao_Paulo or Europe/Berlin"
    return None


def _fires(expression: str, timezone: str) -> bool:
    try:
        CronSchedule(expression, timezone).next_after(datetime.now(UTC))
    except CroniterError:
        return False
    return True


def _check_selector(
    project: Project, graph: Graph, at: tuple[str, ...], what: str, selector: str | None
) -> None:
    try:
        select(graph, selector)
    except AfluenteError as error:
        raise _error(project, (*at, "select"), f"{what}: {error.message}", error.hint) from None


def _check_sensor(project: Project, graph: Graph, name: str, spec: SensorSpec) -> None:
    at = ("sensors", name)
    if spec.new_files is not None:
        _check_files_source(project, name, spec.new_files)
    _check_selector(project, graph, at, f"sensor `{name}`", spec.select)
    if spec.new_version is not None:
        watched = _check_table(project, graph, name, spec.new_version)
        chosen = select(graph, spec.select)
        if watched in chosen:
            raise _error(project, (*at, "select"),
                         f"sensor `{name}` selects `{watched}`, the table it watches: each "
                         "run would fire it again",
                         "select only tables downstream of it, e.g. "
                         f"`select: {_downstream_example(graph, watched)}`")


def _check_files_source(project: Project, name: str, source: str) -> None:
    path = ("sensors", name, "new_files")
    sources = project.config.sources
    if source not in sources:
        close = difflib.get_close_matches(source, sorted(sources), n=3)
        hint = ("did you mean " + " or ".join(f"`{c}`" for c in close) + "?" if close
                else "declared sources: " + (", ".join(sorted(sources)) or "(none)"))
        raise _error(project, path, f"sensor `{name}`: unknown source `{source}`", hint)
    if sources[source].type != "files":
        files = sorted(n for n, s in sources.items() if s.type == "files")
        raise _error(project, path,
                     f"sensor `{name}`: source `{source}` is of type `{sources[source].type}`; "
                     "`new_files` watches a files source",
                     "files sources: " + (", ".join(files) or "(none)")
                     + f"; to react to `{source}`'s table, use `new_version: bronze.{source}`")


def _check_table(project: Project, graph: Graph, name: str, table: str) -> TableRef:
    try:
        return graph.resolve(table)
    except AfluenteError as error:
        raise _error(project, ("sensors", name, "new_version"),
                     f"sensor `{name}`: {error.message}", error.hint) from None


def _downstream_example(graph: Graph, ref: TableRef) -> str:
    children = sorted(str(c) for c in graph.downstream.get(ref, ()))
    return " ".join(f"{c}+" for c in children) or f"{ref}+"
