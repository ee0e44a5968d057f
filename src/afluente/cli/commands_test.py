"""`afluente test`: run the project's model unit tests."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

import typer

from afluente.cli.app import app
from afluente.cli.commands_run import SELECT_HELP
from afluente.cli.console import Console
from afluente.cli.context import state_of

if TYPE_CHECKING:
    from afluente.testing import TestResult


@app.command("test")
def test_command(
    ctx: typer.Context,
    names: list[str] = typer.Argument(
        None, help="Tests to run: a name, model::name, or a glob (default: all)."
    ),
    select: str = typer.Option(None, "--select", "-s", help="Models whose tests run. "
                               + SELECT_HELP),
) -> None:
    """Run model unit tests (tests/*.yml): given input rows, expect output rows."""
    from afluente.model import load_graph
    from afluente.testing import discover_tests, run_tests, select_tests

    cli = state_of(ctx)
    console = cli.console
    project = cli.project()
    graph = load_graph(project)
    tests = select_tests(discover_tests(project, graph), graph, select, names or [])
    results = run_tests(project, graph, tests,
                        on_result=None if console.json_mode else lambda r: _render(console, r))
    passed = sum(r.status == "passed" for r in results)
    payload = {"passed": passed, "failed": len(results) - passed,
               "tests": [_payload(r) for r in results]}
    console.emit(payload, lambda c: _summary(c, results, passed))
    if passed < len(results):
        sys.exit(1)


def _render(console: Console, result: TestResult) -> None:
    from afluente.testing import render_diff

    test = result.test
    seconds = f"[dim]{result.duration_s:.2f}s[/]"
    if result.status == "passed":
        console.line(f"[green]PASS[/] {_escape(test.id)} {seconds}")
        return
    console.line(f"[red]FAIL[/] {_escape(test.id)} {seconds}  ({_escape(str(test.location))})")
    lines = render_diff(result.diff) if result.diff else (
        result.error.render().splitlines() if result.error else [])
    for text in lines:
        console.line(f"    {text}", style="red" if result.status == "error" else "default")


def _summary(console: Console, results: list[TestResult], passed: int) -> None:
    if not results:
        console.line("no tests found: add YAML files under tests/ (see docs/testing.md)")
        return
    failed = len(results) - passed
    style = "green" if not failed else "red"
    console.line(f"[{style}]{passed} passed, {failed} failed[/] of {len(results)} tests")


def _payload(result: TestResult) -> dict[str, object]:
    from afluente.testing.compare import show_row

    test = result.test
    payload: dict[str, object] = {
        "test": test.name, "model": test.model, "status": result.status,
        "location": str(test.location), "duration_s": round(result.duration_s, 3),
    }
    if result.error is not None:
        payload["error"] = result.error.render()
    if result.diff is not None and not result.diff.empty:
        diff = result.diff
        payload["diff"] = {
            "expected_rows": diff.expected_rows,
            "actual_rows": diff.actual_rows,
            "missing": [show_row(r) for r in diff.missing],
            "unexpected": [show_row(r) for r in diff.unexpected],
            "changed": [{"key": show_row(c.key),
                         "columns": {k: [_text(e), _text(a)] for k, (e, a) in c.columns.items()}}
                        for c in diff.changed],
            "misplaced": [{"row": i, "expected": show_row(e), "actual": show_row(a)}
                          for i, e, a in diff.misplaced],
        }
    return payload


def _text(value: object) -> object:
    from afluente.testing.compare import show

    return value if isinstance(value, int | float | str | bool) or value is None else show(value)


def _escape(text: str) -> str:
    return text.replace("[", r"\[")
