"""Model unit tests (`afluente test`): given rows for upstream tables, expect output rows.

Tests are YAML files under the project's `tests/` folder; each runs its model on the real
engine over in-memory fixtures and compares the output type-aware, with a readable diff.
"""

from afluente.testing.compare import Diff, render_diff
from afluente.testing.discover import discover_tests, select_tests
from afluente.testing.runner import TestResult, run_tests
from afluente.testing.spec import UnitTest, load_test_file

__all__ = [
    "Diff",
    "TestResult",
    "UnitTest",
    "discover_tests",
    "load_test_file",
    "render_diff",
    "run_tests",
    "select_tests",
]
