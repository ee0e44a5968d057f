"""`afluente serve`: the REST API (docs/api.md) over the project's state store and
warehouse, the same ones the CLI and the scheduler use."""

from __future__ import annotations

import typer

from afluente.cli.app import app
from afluente.cli.context import state_of
from afluente.errors import ConfigError


@app.command()
def serve(
    ctx: typer.Context,
    host: str = typer.Option("127.0.0.1", "--host", help="Address to listen on."),
    port: int = typer.Option(8000, "--port", min=0, max=65535, help="Port to listen on."),
    base_path: str = typer.Option("", "--base-path",
                                  help="Prefix a reverse proxy serves the API under, e.g. "
                                       "/afluente."),
    query_rate: int = typer.Option(60, "--query-rate", min=1,
                                   help="Queries a minute per token (POST /api/query)."),
) -> None:
    """Serve the REST API: every endpoint but /health takes a token (`afluente token
    create`); OpenAPI at /openapi.json."""
    try:
        from afluente.server.app import serve as run_server
    except ImportError as error:
        raise ConfigError(f"`afluente serve` needs the server extra ({error.name} is missing)",
                          hint="pip install 'afluente[server]'") from None
    if base_path and not base_path.startswith("/"):
        raise ConfigError(f"--base-path {base_path!r} must start with /",
                          hint="e.g. --base-path /afluente")
    cli = state_of(ctx)
    cli.console.line(f"serving the API on http://{host}:{port}{base_path} "
                     "(OpenAPI: /openapi.json; Ctrl-C stops)", "dim")
    run_server(cli.project_dir, cli.environment, host, port, base_path, query_rate)
