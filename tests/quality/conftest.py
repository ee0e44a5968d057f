"""Tiny projects for the quality tests: a model over inline VALUES, no source needed."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

PEOPLE = """
SELECT * FROM (VALUES
    (1, 'Ana', 'ana@example.com', '529.982.247-25', 'SP', 30, DATE '2026-01-02'),
    (2, 'Bia', 'bia@example', '52998224724', 'RJ', 41, DATE '2026-01-03'),
    (3, NULL, 'caio@example.com', '111.111.111-11', 'XX', 17, DATE '2026-01-04'),
    (4, 'Duda', NULL, NULL, 'MG', 230, NULL),
    (4, 'Eva', 'eva@example.com', '529.982.247-25', 'SP', 25, DATE '2026-01-05')
) AS t(id, name, email, cpf, uf, age, signed_up)
"""


def model_text(expectations: str, body: str = PEOPLE, kind: str = "full") -> str:
    return f"/* @config\nkind: {kind}\nexpectations:\n{expectations}\n*/\n{body}"


@pytest.fixture
def make_project(tmp_path: Path) -> Callable[..., Path]:
    """A project with `silver.people` (expectations given) and optional extra models."""

    def make(expectations: str, body: str = PEOPLE, **extra: str) -> Path:
        root = tmp_path / "q"
        (root / "models" / "silver").mkdir(parents=True, exist_ok=True)
        (root / "afluente.yml").write_text("name: q\nwarehouse: warehouse\nengine: duckdb\n")
        (root / "models" / "silver" / "people.sql").write_text(model_text(expectations, body))
        for name, text in extra.items():
            layer, table = name.split("__")
            (root / "models" / layer).mkdir(parents=True, exist_ok=True)
            (root / "models" / layer / f"{table}.{'py' if 'def ' in text else 'sql'}").write_text(
                text
            )
        return root

    return make
