"""The outcome of one expectation in one evaluation, and the error a `fail` rule raises."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from afluente.errors import AfluenteError
from afluente.quality.rules import Action, Expectation, Scope


class QualityError(AfluenteError):
    """An expectation with `action: fail` failed: nothing was committed (terminal)."""


@dataclass(frozen=True)
class RuleResult:
    """Rows evaluated and failed for one rule; `passed` applies the `mostly` threshold."""

    model: str
    rule: str
    kind: str  # not_null, unique, ...
    scope: Scope
    action: Action
    mostly: float
    evaluated: int
    failed: int
    sample: tuple[dict[str, Any], ...] = field(default=())
    detail: str = ""

    @property
    def failed_pct(self) -> float:
        return round(100.0 * self.failed / self.evaluated, 4) if self.evaluated else 0.0

    @property
    def passed(self) -> bool:
        if self.scope != "row":
            return self.failed == 0
        return self.evaluated == 0 or (self.evaluated - self.failed) / self.evaluated >= self.mostly

    @property
    def stops(self) -> bool:
        """A failed rule whose action stops the model."""
        return self.action == "fail" and not self.passed

    def to_row(self) -> dict[str, Any]:
        """The JSON-able form stored in the history table and in events."""
        return {
            "model": self.model, "rule": self.rule, "kind": self.kind, "scope": self.scope,
            "action": self.action, "mostly": self.mostly, "rows_evaluated": self.evaluated,
            "rows_failed": self.failed, "failed_pct": self.failed_pct, "passed": self.passed,
            "sample": json.dumps(list(self.sample), default=str), "detail": self.detail,
        }


def result_of(model: str, rule: Expectation, evaluated: int, failed: int,
              sample: tuple[dict[str, Any], ...] = (), detail: str = "") -> RuleResult:
    return RuleResult(model, rule.name, rule.rule, rule.scope, rule.action, rule.mostly,
                      evaluated, failed, sample, detail)


def failure_error(failures: list[RuleResult], location: Any, table: str) -> QualityError:
    """The error of a stopped model: each failed rule with its count and sample rows."""
    parts = []
    for r in failures:
        sample = json.dumps(list(r.sample[:3]), default=str)
        threshold = f" (mostly {r.mostly})" if r.mostly < 1 else ""
        parts.append(f"`{r.rule}` failed{threshold}: {r.failed} of {r.evaluated} rows "
                     f"({r.failed_pct}%){' ' + r.detail if r.detail else ''}; sample: {sample}")
    return QualityError(
        "expectation failed, nothing committed: " + " | ".join(parts),
        location=location, table=table,
        hint="fix the data or the model, or relax the rule (action: warn, mostly: 0.99)",
    )
