"""What `afluente quality` shows: per model, its latest evaluation, of the rules it defines now.

A rule removed or renamed since, a model that no longer has expectations, or a rule whose
definition (rule kind, action, `mostly`) changed since it was last evaluated shows no stale
result: the last two are listed as not evaluated until the next run or `afluente check`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from afluente.model import Graph
from afluente.quality.rules import Expectation, parse_expectations


def current_results(
    history: Sequence[dict[str, Any]], defined: Mapping[str, Sequence[Expectation]]
) -> tuple[list[dict[str, Any]], list[dict[str, str]]]:
    """(the shown results, the defined rules without a result of their definition);
    `history` comes oldest first, `defined` maps each model to its rules now."""
    latest = _latest_evaluation(history)
    shown: list[dict[str, Any]] = []
    pending: list[dict[str, str]] = []
    for model, rules in defined.items():
        for rule in rules:
            found = latest.get((model, rule.name))
            if found is not None and _evaluates(found, rule):
                shown.append(found)
            else:
                pending.append({"model": model, "rule": rule.name})
    return shown, pending


def _latest_evaluation(history: Sequence[dict[str, Any]]) -> dict[tuple[str, str], dict[str, Any]]:
    """The results of each model's newest evaluation (its newest run id), by (model, rule)."""
    newest_run = {str(r["model"]): r["run_id"] for r in history}
    return {(str(r["model"]), str(r["rule"])): r for r in history
            if r["run_id"] == newest_run[str(r["model"])]}


def _evaluates(result: dict[str, Any], rule: Expectation) -> bool:
    return (result["kind"], result["scope"], result["action"], float(result["mostly"])) == (
        rule.rule, rule.scope, rule.action, rule.mostly)


def defined_expectations(graph: Graph) -> dict[str, list[Expectation]]:
    """Each model's expectations as the project defines them now."""
    return {graph[ref].name: list(parse_expectations(graph[ref].config.expectations,
                                                     graph[ref].location, graph[ref].name))
            for ref in graph.order if graph[ref].config.expectations}
