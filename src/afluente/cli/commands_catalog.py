"""`afluente catalog search` and `afluente docs build`: find and document tables."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from afluente.cli.app import app
from afluente.cli.context import CliState, state_of

if TYPE_CHECKING:
    from afluente.catalog import TableFacts
    from afluente.lineage import ProjectLineage

catalog_app = typer.Typer(help="Search tables and columns by name, description or tag.",
                          no_args_is_help=True)
docs_app = typer.Typer(help="Build the documentation site.", no_args_is_help=True)
app.add_typer(catalog_app, name="catalog")
app.add_typer(docs_app, name="docs")


def _gather(cli: CliState) -> tuple[list[TableFacts], ProjectLineage, str]:
    from afluente.catalog import declared_tags, load_lineage, propagate_tags, table_facts
    from afluente.model import load_graph
    from afluente.storage import Warehouse

    project = cli.project()
    graph = load_graph(project)
    warehouse = Warehouse(project.warehouse_uri)
    found = load_lineage(graph, warehouse)
    tags = propagate_tags(found, declared_tags(graph))
    return (table_facts(project, graph, warehouse, found, tags, _quality(project)), found,
            project.config.name)


def _quality(project: Any) -> list[dict[str, Any]]:
    """The rule results the state store kept (none when nothing was ever checked)."""
    from afluente.state import StateStore

    store = StateStore.open(project.state_url)
    try:
        return store.quality_history()
    finally:
        store.close()


@catalog_app.command("search")
def catalog_search(ctx: typer.Context, term: str = typer.Argument(...)) -> None:
    """Tables and columns whose name, description, tags or owner contain TERM."""
    from afluente.catalog import search

    cli = state_of(ctx)
    tables, _, _ = _gather(cli)
    hits = search(tables, term)
    payload = [{"table": h.table, "column": h.column, "field": h.field, "text": h.text}
               for h in hits]

    def show(console: object) -> None:
        cli.console.table(["table", "column", "matched", "text"],
                          [[h.table, h.column or "", h.field, h.text] for h in hits])
        cli.console.line(f"{len(hits)} matches for {term!r}", style="dim")

    cli.console.emit(payload, show)


@docs_app.command("build")
def docs_build(
    ctx: typer.Context,
    out: Path = typer.Option(None, "--out", "-o", help="Folder (default: target/docs)."),
) -> None:
    """Write a static HTML site: tables, columns, tags, versions and lineage graphs."""
    from afluente.catalog import build_site, site_data

    cli = state_of(ctx)
    tables, found, name = _gather(cli)
    folder = out or cli.project().root / "target" / "docs"
    index = build_site(folder, site_data(tables, found, name))
    cli.console.emit({"index": str(index)}, lambda c: cli.console.line(f"docs written: {index}"))
