"""`afluente ci`: what a pull request is checked with, as one command — validate, unit
tests, plan and build the changed models in a data environment, diff them against prod —
and the markdown summary a CI job posts on the pull request."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from afluente.config import Project
from afluente.errors import AfluenteError


@dataclass
class CiReport:
    steps: list[tuple[str, bool, str]] = field(default_factory=list)  # name, passed, detail
    diffs: list[dict[str, Any]] = field(default_factory=list)
    changes: list[dict[str, Any]] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return all(ok for _, ok, _ in self.steps)

    @property
    def markdown(self) -> str:
        lines = ["## afluente ci", "", "| step | result | detail |", "|---|---|---|"]
        lines += [f"| {name} | {'✅ passed' if ok else '❌ failed'} | {detail} |"
                  for name, ok, detail in self.steps]
        if self.changes:
            lines += ["", "### Changed models", "", "| table | change | why |", "|---|---|---|"]
            lines += [f"| `{c['table']}` | {c['category']} | {c['reason']} |"
                      for c in self.changes]
        if self.diffs:
            lines += ["", "### Data diff against prod", "",
                      "| table | rows prod | rows env | only prod | only env | changed columns |"
                      " schema |", "|---|---|---|---|---|---|---|"]
            lines += [_diff_row(d) for d in self.diffs]
        return "\n".join(lines) + "\n"


def _diff_row(d: dict[str, Any]) -> str:
    changed = ", ".join(f"{c} ({n})" for c, n in d["changed"].items()) or "-"
    schema = " ".join([*(f"+{c}" for c in d["added_columns"]),
                       *(f"-{c}" for c in d["removed_columns"]),
                       *(f"~{c}" for c in d["retyped_columns"])]) or "-"
    keyed = d["key"] is not None
    return (f"| `{d['table']}` | {d['rows_base']} | {d['rows_env']} | "
            f"{d['only_base'] if keyed else 'n/a'} | {d['only_env'] if keyed else 'n/a'} | "
            f"{changed} | {schema} |")


def run_ci(project: Project, name: str) -> CiReport:
    """Each step runs when the ones before passed; a failure is reported, not raised."""
    report = CiReport()
    for step in (_validate, _unit_tests, _plan, _build, _diff):
        try:
            ok, detail = step(project, name, report)
        except AfluenteError as error:
            ok, detail = False, error.message.replace("|", "/")
        report.steps.append((step.__name__.strip("_").replace("_", " "), ok, detail))
        if not ok:
            break
    return report


def _validate(project: Project, name: str, report: CiReport) -> tuple[bool, str]:
    from afluente.connectors import validate_sources
    from afluente.engines.registry import validate_engine
    from afluente.model import load_graph
    from afluente.runtime.model_binding import bind_models

    validate_sources(project)
    validate_engine(project)
    graph = load_graph(project)
    bind_models(project, graph)
    return True, f"{len(graph)} tables"


def _unit_tests(project: Project, name: str, report: CiReport) -> tuple[bool, str]:
    from afluente.model import load_graph
    from afluente.testing import discover_tests, run_tests

    graph = load_graph(project)
    results = run_tests(project, graph, discover_tests(project, graph))
    failed = [r for r in results if r.status != "passed"]
    return not failed, f"{len(results) - len(failed)} passed, {len(failed)} failed"


def _plan(project: Project, name: str, report: CiReport) -> tuple[bool, str]:
    from afluente.runtime.env_promote import drop
    from afluente.runtime.environments import env_store, plan_environment

    if env_store(project).exists(name) and env_store(project).load(name).state != "open":
        drop(project, name)  # a CI environment already promoted: start afresh
    planned = plan_environment(project, name)
    report.changes = [c.as_dict() for c in planned.changes]
    return True, (f"environment `{name}`: {len(planned.changes)} changed, "
                  f"{len(planned.rebuilt)} rebuilt downstream")


def _build(project: Project, name: str, report: CiReport) -> tuple[bool, str]:
    from afluente.runtime.environments import env_store, run_environment

    if not env_store(project).load(name).own:
        return True, "nothing to build"
    result = run_environment(project, name)
    return result.status == "success", (result.error or
                                        f"{result.count('success')} built").replace("|", "/")


def _diff(project: Project, name: str, report: CiReport) -> tuple[bool, str]:
    from afluente.model import TableRef
    from afluente.runtime.env_diff import diff_table
    from afluente.runtime.environments import env_store
    from afluente.storage import Warehouse
    from afluente.storage.env_records import PROD

    record = env_store(project).load(name)
    prod = Warehouse(project.warehouse_uri, environment=PROD)
    for table in record.own:
        ref = TableRef.parse(table)
        if prod.exists(ref):
            report.diffs.append(diff_table(project, ref, name).as_dict())
    return True, f"{len(report.diffs)} table(s) compared"
