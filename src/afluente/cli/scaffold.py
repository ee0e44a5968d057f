"""`afluente init`: copy the starter project, which runs as created."""

from __future__ import annotations

import shutil
from importlib.resources import as_file, files
from pathlib import Path

from afluente.errors import ConfigError

TEMPLATE = "templates/init"


def scaffold(target: Path, name: str | None = None, force: bool = False) -> list[Path]:
    """Write the starter project into `target`; refuse to overwrite unless `force`."""
    if (target / "afluente.yml").exists() and not force:
        raise ConfigError(
            f"{target / 'afluente.yml'} already exists",
            hint="choose an empty folder, or pass --force to overwrite the starter files",
        )
    written: list[Path] = []
    with as_file(files("afluente").joinpath(TEMPLATE)) as template:
        for source in sorted(Path(template).rglob("*")):
            if source.is_dir() or "__pycache__" in source.parts:
                continue
            relative = source.relative_to(template)
            if relative.name == "gitignore.txt":
                relative = relative.with_name(".gitignore")
            destination = target / relative
            destination.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, destination)
            written.append(destination)
    project_file = target / "afluente.yml"
    project_name = name or _identifier(target.resolve().name)
    project_file.write_text(
        project_file.read_text().replace("name: my_lakehouse", f"name: {project_name}")
    )
    return written


def _identifier(text: str) -> str:
    cleaned = "".join(ch if ch.isalnum() or ch in "_-" else "_" for ch in text)
    return cleaned if cleaned and not cleaned[0].isdigit() else f"p_{cleaned}"
