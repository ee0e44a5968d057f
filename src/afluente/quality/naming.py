"""Names for expectations declared without one: readable, and stable while the rule is.

The name is the rule, then the columns it reads (`not_null_customer_id`,
`unique_order_id_item_seq`); a rule with more than its columns (bounds, values, a pattern,
SQL) ends with 6 hex digits of a hash of its normalised arguments (`between_age_1f0c2a`), so
changing what is checked changes the name, while reformatting the YAML, reordering the
expectations, or changing `action`, `mostly` or `description` does not. A generated name that
is already taken in the model gets `_2`, `_3`... in declaration order.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from afluente.quality.rules import Expectation

COLUMN_ONLY_RULES = ("not_null", "unique")
MAX_COLUMNS_PART = 60
_NOT_WORD = re.compile(r"[^A-Za-z0-9_]+")


def generated_name(rule: Expectation) -> str:
    """The name an unnamed expectation gets (without the uniqueness suffix)."""
    parts = [rule.rule]
    columns = _word("_".join(rule.columns_used))[:MAX_COLUMNS_PART].strip("_")
    if columns:
        parts.append(columns)
    if rule.rule not in COLUMN_ONLY_RULES:
        parts.append(_arguments_digest(rule))
    return "_".join(parts)


def _word(text: str) -> str:
    return _NOT_WORD.sub("_", text)


def _arguments_digest(rule: Expectation) -> str:
    arguments = rule.model_dump(mode="json", by_alias=True, include={rule.rule})
    canonical = json.dumps(arguments, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()[:6]


def with_generated_names(
    rules: Iterable[Expectation], declared: set[str]
) -> tuple[Expectation, ...]:
    """`rules` with each empty name replaced by a generated one not in `declared` and not
    given to an earlier rule."""
    taken = set(declared)
    named: list[Expectation] = []
    for rule in rules:
        if not rule.name:
            rule = rule.model_copy(update={"name": _free(generated_name(rule), taken)})
        taken.add(rule.name)
        named.append(rule)
    return tuple(named)


def _free(base: str, taken: set[str]) -> str:
    name, counter = base, 1
    while name in taken:
        counter += 1
        name = f"{base}_{counter}"
    return name
