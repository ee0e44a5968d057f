"""Find a project's unit tests: every YAML file under `tests/` (beside `models/`).

Tests live in their own folder so model discovery never has to tell a test from a model's
config sidecar. Each test must name a model of the graph; names are unique per model.
"""

from __future__ import annotations

import difflib
import fnmatch
from pathlib import Path

from afluente.config import Project
from afluente.errors import ConfigError, ModelError
from afluente.model import Graph, TableRef
from afluente.model.selector import select
from afluente.testing.spec import UnitTest, load_test_file

TESTS_DIR = "tests"
TEST_SUFFIXES = (".yml", ".yaml")


def tests_dir(project: Project) -> Path:
    return project.root / TESTS_DIR


def discover_tests(project: Project, graph: Graph) -> list[UnitTest]:
    """Every test of the project, in file order, each checked against the graph."""
    folder = tests_dir(project)
    if not folder.is_dir():
        return []
    found: list[UnitTest] = []
    for file in sorted(folder.rglob("*")):
        if file.suffix in TEST_SUFFIXES and file.is_file() and not _ignored(file, folder):
            found.extend(load_test_file(file))
    for test in found:
        _check_model(test, graph)
    _check_unique(found)
    return found


def _ignored(file: Path, folder: Path) -> bool:
    return any(part.startswith((".", "_")) for part in file.relative_to(folder).parts)


def _check_model(test: UnitTest, graph: Graph) -> None:
    try:
        ref = TableRef.parse(test.model)
    except ModelError as exc:
        raise ConfigError(exc.message, location=test.where("model"), hint=exc.hint) from None
    node = graph.nodes.get(ref)
    if node is None:
        raise ConfigError(
            f"test `{test.name}` is for unknown model `{test.model}`",
            location=test.where("model"),
            hint=graph.suggest(test.model),
        )
    if node.language == "source":
        raise ConfigError(
            f"test `{test.name}`: `{test.model}` is a source, not a model",
            location=test.where("model"),
            hint="unit tests check SQL and Python models; give the source's rows under "
            "`given:` of a test of a model that reads it",
        )


def _check_unique(tests: list[UnitTest]) -> None:
    seen: dict[str, UnitTest] = {}
    for test in tests:
        first = seen.setdefault(test.id, test)
        if first is not test:
            raise ConfigError(
                f"two tests are named `{test.id}` (first at {first.location})",
                location=test.location,
                hint="give each test of a model its own `name:`",
            )


def select_tests(
    tests: list[UnitTest], graph: Graph, selector: str | None, names: list[str]
) -> list[UnitTest]:
    """Tests of the models `selector` selects, whose name (or model::name) matches `names`."""
    chosen = tests
    if selector is not None:
        models = {str(ref) for ref in select(graph, selector)}
        chosen = [t for t in chosen if t.model in models]
    if names:
        chosen = [t for t in chosen if any(_named(t, n) for n in names)]
        if not chosen:
            known = sorted({t.name for t in tests} | {t.id for t in tests})
            close = difflib.get_close_matches(names[0], known, n=3)
            hint = f"did you mean {', '.join(close)}? " if close else ""
            raise ConfigError(
                f"no test matches {' '.join(names)}",
                hint=hint + "name a test as `name`, `model::name` or a glob like `silver.*`",
            )
    return chosen


def _named(test: UnitTest, pattern: str) -> bool:
    return any(fnmatch.fnmatchcase(text, pattern) for text in (test.name, test.id, test.model))
