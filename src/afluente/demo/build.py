"""Lay out the demo project: a generated landing zone plus the bundled model files."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import dataclass
from importlib.resources import as_file, files
from pathlib import Path

from afluente.demo.landing import LandingSummary, generate_landing
from afluente.errors import DemoError

Progress = Callable[[str, int, int], None]


@dataclass(frozen=True)
class DemoLayout:
    root: Path
    landing: LandingSummary


def prepare_demo(
    root: Path, orders: int, seed: int = 42, progress: Progress | None = None, ml: bool = False
) -> DemoLayout:
    """Generate `root/landing` and copy the demo project's config and models into `root`;
    `ml`: with the repeat-purchase model too (`train`/`score`, the ml extra)."""
    if orders < 1:
        raise DemoError(f"--orders must be at least 1, got {orders}")
    root.mkdir(parents=True, exist_ok=True)
    landing_dir = root / "landing"
    if landing_dir.exists():
        shutil.rmtree(landing_dir)
    summary = generate_landing(landing_dir, orders=orders, seed=seed, progress=progress)
    copy_project_template(root)
    if ml:
        with as_file(files("afluente.demo").joinpath("ml_project")) as template:
            shutil.copytree(Path(template) / "models", root / "models", dirs_exist_ok=True,
                            ignore=shutil.ignore_patterns("__pycache__"))
    return DemoLayout(root=root, landing=summary)


def copy_project_template(root: Path) -> None:
    """Write the demo project's afluente.yml, models and dashboards into `root` (replacing
    models/ and dashboards/)."""
    with as_file(files("afluente.demo").joinpath("project")) as template:
        template_dir = Path(template)
        shutil.copyfile(template_dir / "afluente.yml", root / "afluente.yml")
        if (root / "models").exists():
            shutil.rmtree(root / "models")
        shutil.copytree(
            template_dir / "models", root / "models", ignore=shutil.ignore_patterns("__pycache__")
        )
        if (root / "dashboards").exists():
            shutil.rmtree(root / "dashboards")
        shutil.copytree(template_dir / "dashboards", root / "dashboards")  # docs/dashboards.md
        if (template_dir / "tests").is_dir():  # the model unit tests (`afluente test`)
            shutil.copytree(template_dir / "tests", root / "tests", dirs_exist_ok=True)


STREAM_TOPIC = "orders"


def copy_stream_project(root: Path, bootstrap: str) -> Path:
    """Write the demo's streaming project into `root` (replacing its config and models),
    reading topic `orders` on the broker at `bootstrap`."""
    root.mkdir(parents=True, exist_ok=True)
    with as_file(files("afluente.demo").joinpath("stream_project")) as template:
        template_dir = Path(template)
        config = (template_dir / "afluente.yml").read_text(encoding="utf-8")
        (root / "afluente.yml").write_text(config.replace("__BOOTSTRAP__", bootstrap),
                                           encoding="utf-8")
        if (root / "models").exists():
            shutil.rmtree(root / "models")
        shutil.copytree(
            template_dir / "models", root / "models", ignore=shutil.ignore_patterns("__pycache__")
        )
    return root
