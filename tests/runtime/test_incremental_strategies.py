"""Every incremental kind has exactly one writer, and every writer belongs to a kind."""

from __future__ import annotations

from afluente.model.kinds import KINDS
from afluente.runtime.incremental_strategies import STRATEGIES


def test_each_incremental_kind_has_one_strategy_and_no_strategy_is_orphaned() -> None:
    incremental = {name for name, kind in KINDS.items() if kind.incremental}
    assert set(STRATEGIES) == incremental
    assert all(strategy.kind == name for name, strategy in STRATEGIES.items())


def test_only_the_append_writer_adds_new_output_columns_itself() -> None:
    assert {name for name, s in STRATEGIES.items() if s.adds_new_columns} == {"append"}
