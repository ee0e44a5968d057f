"""Find `dashboards/*.yml` beside the models and load them: every key checked, every table a
panel reads a gold table of the project, every `{{ filter }}` declared; a mistake is a
`DashboardError` naming the file, line, column and key, with "did you mean"."""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import ValidationError

from afluente.config import Project
from afluente.config.validation import data_path, first_error, to_config_error
from afluente.config.yaml_lines import load_located_yaml
from afluente.dashboards.located import key_marks
from afluente.dashboards.spec import NAME, Choices, Dashboard
from afluente.dashboards.tables import tables_in
from afluente.errors import ConfigError, Location

if TYPE_CHECKING:
    from afluente.model import Graph

FOLDER = "dashboards"


class DashboardError(ConfigError):
    """A dashboard file is invalid, or a panel's query failed (the message names the
    dashboard and the panel)."""


class DashboardNotFound(DashboardError):
    """No dashboard of that name."""


def dashboards_dir(project: Project) -> Path:
    """`dashboards/`, beside the models folder."""
    return project.models_dir.parent / FOLDER


def dashboard_files(project: Project) -> dict[str, Path]:
    folder = dashboards_dir(project)
    if not folder.is_dir():
        return {}
    files = sorted([*folder.glob("*.yml"), *folder.glob("*.yaml")])
    return {file.stem: file for file in files}


def load_dashboards(project: Project, graph: Graph | None = None) -> list[Dashboard]:
    """Every dashboard of the project, checked against its tables."""
    known = _gold_tables(project, graph)
    return [load_dashboard(file, known) for file in dashboard_files(project).values()]


def find_dashboard(project: Project, name: str, graph: Graph | None = None) -> Dashboard:
    files = dashboard_files(project)
    if name not in files:
        close = difflib.get_close_matches(name, list(files), n=1)
        raise DashboardNotFound(
            f"no dashboard named {name!r} in {dashboards_dir(project)}",
            hint=(f"did you mean `{close[0]}`? " if close else "")
            + (f"dashboards: {', '.join(files)}" if files else
               "declare one in dashboards/NAME.yml (docs/dashboards.md)"))
    return load_dashboard(files[name], _gold_tables(project, graph))


def load_dashboard(file: Path, gold_tables: Iterable[str]) -> Dashboard:
    """`file` parsed and checked; `gold_tables`: the project's gold tables (`gold.name`)."""
    text = file.read_text(encoding="utf-8")
    try:
        doc = load_located_yaml(text, file)
    except ConfigError as bad:
        raise DashboardError(bad.message, location=bad.location, hint=bad.hint) from None
    if not isinstance(doc.data, dict):
        raise DashboardError("a dashboard file is a mapping with `title` and `panels`",
                             location=Location(file, 1, 1), hint="see docs/dashboards.md")
    marks = key_marks(text, file)
    if "name" in doc.data:
        raise DashboardError("unknown key `name`", location=marks.location(("name",)),
                             hint="a dashboard's name is its file's name: rename the file")
    if not re.match(NAME, file.stem):
        raise DashboardError(f"{file.name}: a dashboard's file name is its name, and "
                             f"{file.stem!r} is not one", location=Location(file, 1, 1),
                             hint="use letters, digits, _ and - (revenue.yml, sales-sp.yml)")
    data = {**doc.data, "name": file.stem}
    try:
        dashboard = Dashboard.model_validate(data).located(marks)
    except ValidationError as exc:
        error = to_config_error(exc, Dashboard, data, doc)
        path = data_path(first_error(exc)["loc"], data)
        raise DashboardError(error.message, location=marks.location(path),
                             hint=error.hint) from None
    _check_tables(dashboard, set(gold_tables))
    _check_filters(dashboard)
    return dashboard


def _check_tables(dashboard: Dashboard, known: set[str]) -> None:
    for name, panel in dashboard.panels.items():
        for table in tables_in(panel.query):
            _known_table(dashboard, table, known, ("panels", name, "query"), f"panel {name!r}")
    for name, spec in dashboard.filters.items():
        choices = spec.choices
        if isinstance(choices, Choices):
            if choices.column is not None:
                table = choices.column.rsplit(".", 1)[0]
                _known_table(dashboard, table, known, ("filters", name, "choices", "column"),
                             f"filter {name!r}")
            for table in tables_in(choices.query or ""):
                _known_table(dashboard, table, known, ("filters", name, "choices", "query"),
                             f"filter {name!r}")


def _known_table(dashboard: Dashboard, table: str, known: set[str], path: tuple[str, ...],
                 what: str) -> None:
    if table.lower() in known:
        return
    close = difflib.get_close_matches(table.lower(), sorted(known), n=1)
    if not table.lower().startswith("gold."):
        hint = "dashboards read the gold marts: write the table as gold.NAME"
    else:
        hint = f"gold tables: {', '.join(sorted(known)) or '(none yet)'}"
    if close:
        hint = f"did you mean `{close[0]}`? {hint}"
    raise DashboardError(
        f"dashboard {dashboard.name!r}, {what}: `{'.'.join(path)}` reads {table}, which is "
        "no gold table of the project", location=dashboard.where_in(path, table), hint=hint)


def _check_filters(dashboard: Dashboard) -> None:
    declared = sorted(dashboard.filters)
    for name, panel in dashboard.panels.items():
        for used in panel.placeholders():
            if used not in dashboard.filters:
                close = difflib.get_close_matches(used, declared, n=1)
                raise DashboardError(
                    f"dashboard {dashboard.name!r}, panel {name!r}: the query uses "
                    f"{{{{ {used} }}}}, which is no filter of the dashboard",
                    location=dashboard.where_in(("panels", name, "query"), used),
                    hint=(f"did you mean `{close[0]}`? " if close else "")
                    + (f"filters: {', '.join(declared)}" if declared else
                       "declare it under `filters:`"))
    for name, spec in dashboard.filters.items():
        if isinstance(spec.choices, list) and spec.default is not None \
                and str(spec.default) not in {str(c) for c in spec.choices}:
            raise DashboardError(
                f"dashboard {dashboard.name!r}, filter {name!r}: the default "
                f"{spec.default!r} is not among its choices",
                location=dashboard.where("filters", name, "default"),
                hint=f"choices: {', '.join(str(c) for c in spec.choices)}")


def _gold_tables(project: Project, graph: Graph | None) -> set[str]:
    from afluente.model import load_graph

    graph = graph or load_graph(project)
    return {str(ref).lower() for ref in graph.order if ref.layer == "gold"}
