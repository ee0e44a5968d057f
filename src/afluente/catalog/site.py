"""`afluente docs build`: a static site that works from `file://` with no network. The data
goes into `data.js` (a script, since browsers refuse `fetch` on local files); `site.js`
renders the pages and draws the lineage graphs as SVG in the browser."""

from __future__ import annotations

import json
from dataclasses import asdict
from importlib.resources import files
from pathlib import Path
from typing import Any

from afluente.catalog.collect import TableFacts
from afluente.lineage import ProjectLineage

ASSETS = ("index.html", "site.js", "site.css")


def site_data(tables: list[TableFacts], lineage: ProjectLineage, project: str) -> dict[str, Any]:
    """Everything the pages show, JSON-able."""
    datasets = {name: {"inputs": list(m.dataset.inputs), "language": m.dataset.language,
                       "location": m.dataset.location, "column_level": m.column_level,
                       "warnings": list(m.warnings)}
                for name, m in lineage.datasets.items()}
    edges = [{"target": str(e.target), "source": str(e.source), "kind": e.kind,
              "detail": e.detail} for e in lineage.edges()]
    return {"project": project, "tables": [asdict(t) for t in tables], "datasets": datasets,
            "column_edges": edges}


def build_site(out: Path, data: dict[str, Any]) -> Path:
    """Write the site into `out`; returns the path of its index page."""
    out.mkdir(parents=True, exist_ok=True)
    assets = files("afluente.catalog").joinpath("assets")
    for name in ASSETS:
        (out / name).write_text(assets.joinpath(name).read_text(encoding="utf-8"),
                                encoding="utf-8")
    payload = json.dumps(data, ensure_ascii=False, default=str).replace("</", "<\\/")
    (out / "data.js").write_text(f"window.AFLUENTE = {payload};\n", encoding="utf-8")
    return out / "index.html"
