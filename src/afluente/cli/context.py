"""The global CLI options and what commands derive from them."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from afluente.cli.console import Console, JsonConsole

if TYPE_CHECKING:
    from afluente.config import Project


@dataclass
class CliState:
    project_dir: Path
    environment: str | None
    json: bool
    debug: bool

    @property
    def console(self) -> Console:
        return JsonConsole() if self.json else Console()

    def project(self) -> Project:
        from afluente.config import load_project

        return load_project(self.project_dir, self.environment)


def state_of(ctx: typer.Context) -> CliState:
    obj = ctx.find_root().obj
    assert isinstance(obj, CliState)
    return obj
