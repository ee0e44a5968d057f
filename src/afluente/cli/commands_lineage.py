"""`afluente lineage`: where a table or column comes from, or what it feeds."""

from __future__ import annotations

import sys
from enum import StrEnum

import typer

from afluente.cli.app import app
from afluente.cli.context import state_of
from afluente.errors import ModelError


class LineageFormat(StrEnum):
    tree = "tree"
    mermaid = "mermaid"
    dot = "dot"
    json = "json"


@app.command()
def lineage(
    ctx: typer.Context,
    target: str = typer.Argument(..., help="layer.table or layer.table.column"),
    upstream: bool = typer.Option(False, "--upstream", help="Where it comes from (default)."),
    downstream: bool = typer.Option(False, "--downstream", help="What it feeds."),
    depth: int = typer.Option(None, "--depth", min=1, help="Stop after this many hops."),
    fmt: LineageFormat = typer.Option(LineageFormat.tree, "--format", "-f"),
) -> None:
    """Column-level lineage from source files, tables and endpoints through bronze to gold."""
    from afluente.catalog import load_lineage
    from afluente.lineage.export import render
    from afluente.lineage.model import ColumnKey
    from afluente.lineage.walk import Direction, parse_target, walk_columns, walk_tables
    from afluente.model import load_graph
    from afluente.storage import Warehouse

    if upstream and downstream:
        raise ModelError("choose one of --upstream and --downstream",
                         hint="run the command twice to see both directions")
    direction: Direction = "downstream" if downstream else "upstream"
    cli = state_of(ctx)
    project = cli.project()
    found = load_lineage(load_graph(project), Warehouse(project.warehouse_uri))
    dataset, column = parse_target(found, target)
    hops = (walk_columns(found, ColumnKey(dataset, column), direction, depth) if column
            else walk_tables(found, dataset, direction, depth))
    text = render(hops, "json" if cli.json else fmt.value, direction)
    for warning in found.warnings():
        if warning.split(" ", 1)[0] in {h.node.rsplit(".", 1)[0] for h in hops} | {dataset}:
            cli.console.err.print(f"warning: {warning}", markup=False)
    sys.stdout.write(text + "\n")
