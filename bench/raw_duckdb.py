"""Single-node baseline: the demo pipeline hand-run in raw DuckDB, no afluente.

Reads the landing CSVs the way the demo's afluente.yml declares them (every column VARCHAR,
plus the bronze metadata columns), then runs every model of the demo project in dependency
order: each table is written to `<out>/<layer>/<table>.parquet` with COPY and exposed as the
view `layer.table` for the statements downstream. The Python model (gold.dim_date) is loaded
with a stand-in for the `afluente.table` decorator and called with a relation.

    python bench/raw_duckdb.py --landing DIR --out DIR [--project DIR]

Prints one JSON object: wall time, peak RSS and per-table seconds and rows.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import re
import resource
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import yaml

DEFAULT_PROJECT = Path(__file__).resolve().parents[1] / "src/afluente/demo/project"
LAYERS = ("bronze", "silver", "gold")
REFERENCE = re.compile(r"\b(bronze|silver|gold)\.([a-z_][a-z0-9_]*)\b")
INPUTS = re.compile(r"inputs\s*=\s*[\[{]([^\]}]*)[\]}]")
HEADER = re.compile(r"\A\s*/\*\s*@config.*?\*/", re.DOTALL)


@dataclass(frozen=True)
class Model:
    name: str  # layer.table
    path: Path
    inputs: tuple[str, ...]


def read_models(project: Path) -> dict[str, Model]:
    models = {}
    for path in sorted((project / "models").glob("*/*")):
        if path.suffix not in (".sql", ".py"):
            continue
        text = path.read_text(encoding="utf-8")
        if path.suffix == ".py":
            found = INPUTS.search(text)
            refs = [".".join(m) for m in REFERENCE.findall(found.group(1))] if found else []
        else:
            refs = [".".join(m) for m in REFERENCE.findall(HEADER.sub("", text))]
        name = f"{path.parent.name}.{path.stem}"
        models[name] = Model(name, path, tuple(sorted(set(refs) - {name})))
    return models


def in_dependency_order(models: dict[str, Model]) -> Iterator[Model]:
    done: set[str] = set()
    pending = dict(models)
    while pending:
        ready = [m for m in pending.values() if all(r in done or r not in models for r in m.inputs)]
        if not ready:
            raise SystemExit(f"dependency cycle among {sorted(pending)}")
        for model in sorted(ready, key=lambda m: m.name):
            done.add(model.name)
            del pending[model.name]
            yield model


def sql_literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def bronze_select(
    con: duckdb.DuckDBPyConnection, files: str, options: dict[str, Any], run_id: str
) -> str:
    reader = (
        f"read_csv({sql_literal(files)}, delim={sql_literal(options.get('delimiter', ','))}, "
        f"header={str(options.get('header', True)).lower()}, all_varchar=true, "
        f"quote={sql_literal(options.get('quote', chr(34)))}, filename='_source')"
    )
    columns = [c[0] for c in con.sql(f"DESCRIBE SELECT * FROM {reader}").fetchall()]
    data = [c for c in columns if c != "_source"]
    raw = ", ".join(f"coalesce({quote_ident(c)}, '')" for c in data)
    return (
        f"SELECT {', '.join(quote_ident(c) for c in data)}, "
        "NULL::VARCHAR AS _rescued_data, _source, "
        f"CAST(now() AS TIMESTAMP WITH TIME ZONE) AS _ingested_at, "
        f"{sql_literal(run_id)} AS _run_id, md5(concat_ws(chr(31), {raw})) AS _row_hash "
        f"FROM {reader}"
    )


def quote_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def load_python_model(path: Path) -> Callable[..., Any]:
    """Import a Python model with afluente's `table` decorator swapped for one that only
    keeps its options (the model's helpers, e.g. `afluente.transform`, stay importable)."""
    import afluente

    def table(**options: Any) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        def keep(fn: Callable[..., Any]) -> Callable[..., Any]:
            fn.options = options  # type: ignore[attr-defined]
            return fn

        return keep

    saved = afluente.table
    afluente.table = table  # type: ignore[assignment]
    try:
        spec = importlib.util.spec_from_file_location(f"_demo_model_{path.stem}", path)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
    finally:
        afluente.table = saved  # type: ignore[assignment]
    return getattr(module, path.stem)  # type: ignore[no-any-return]


def scd2_sql(events: Any, options: dict[str, Any]) -> str:
    """SCD type 2 from a full change feed, as one hand-written DuckDB query: a new version
    whenever a tracked column changes, valid until the next event of the same key; a delete
    event closes the open version."""
    keys = ", ".join(quote_ident(k) for k in options["keys"])
    sequence = quote_ident(options["sequence_by"])
    dropped = set(options.get("except_columns") or ())
    tracked = options.get("track_history_columns") or [
        c for c in events.columns if c not in options["keys"] and c not in dropped
    ]
    deletes = options.get("apply_as_deletes") or "false"
    digest = ", ".join(f"coalesce(CAST({quote_ident(c)} AS VARCHAR), '')" for c in tracked)
    window = f"PARTITION BY {keys} ORDER BY {sequence}"
    excluded = ", ".join(quote_ident(c) for c in ["__h", "__del", "__prev", "__prev_del",
                                                   *dropped])
    events.create_view("_scd2_events")
    return f"""
        WITH hashed AS (
          SELECT *, md5(concat_ws(chr(31), {digest})) AS __h, coalesce({deletes}, false) AS __del
          FROM _scd2_events
        ), kept AS (
          SELECT * FROM (
            SELECT *, lag(__h) OVER ({window}) AS __prev, lag(__del) OVER ({window}) AS __prev_del
            FROM hashed
          ) WHERE __del OR __prev IS NULL OR __prev <> __h OR __prev_del
        ), ranged AS (
          SELECT *, {sequence} AS valid_from, lead({sequence}) OVER ({window}) AS valid_to
          FROM kept
        )
        SELECT * EXCLUDE ({excluded}), valid_to IS NULL AS is_current
        FROM ranged WHERE NOT __del"""


def publish(con: duckdb.DuckDBPyConnection, name: str, parquet: Path) -> None:
    con.execute(
        f"CREATE OR REPLACE VIEW {name} AS SELECT * FROM read_parquet({sql_literal(str(parquet))})"
    )


def run_model(con: duckdb.DuckDBPyConnection, model: Model, out: Path) -> Path:
    layer, table = model.name.split(".")
    target = out / layer / f"{table}.parquet"
    target.parent.mkdir(parents=True, exist_ok=True)
    if model.path.suffix == ".py":
        fn = load_python_model(model.path)
        options = getattr(fn, "options", {})
        declared = options.get("inputs", model.inputs)
        if isinstance(declared, dict):
            result = fn(**{k: con.sql(f"SELECT * FROM {v}") for k, v in declared.items()})
        else:
            result = fn(*(con.sql(f"SELECT * FROM {name}") for name in declared))
        if options.get("kind") == "apply_changes":
            result = con.sql(scd2_sql(result, options))
        if not hasattr(result, "to_parquet"):  # an Arrow table (the forecasts)
            result = con.from_arrow(result)
        result.to_parquet(str(target))
    else:
        sql = HEADER.sub("", model.path.read_text(encoding="utf-8")).strip().rstrip(";")
        con.execute(f"COPY ({sql}) TO {sql_literal(str(target))} (FORMAT parquet)")
    publish(con, model.name, target)
    return target


def run_pipeline(
    con: duckdb.DuckDBPyConnection, landing: Path, out: Path, project: Path = DEFAULT_PROJECT
) -> dict[str, dict[str, float]]:
    """Run bronze, then every model; return seconds and rows per table."""
    config = yaml.safe_load((project / "afluente.yml").read_text(encoding="utf-8"))
    for layer in LAYERS:
        con.execute(f"CREATE SCHEMA IF NOT EXISTS {layer}")
    run_id = str(uuid.uuid4())
    stats: dict[str, dict[str, float]] = {}
    for source, spec in config["sources"].items():
        started = time.perf_counter()
        files = str(landing / Path(spec["path"]).relative_to("landing"))
        target = out / "bronze" / f"{source}.parquet"
        target.parent.mkdir(parents=True, exist_ok=True)
        select = bronze_select(con, files, spec.get("options", {}), run_id)
        con.execute(f"COPY ({select}) TO {sql_literal(str(target))} (FORMAT parquet)")
        publish(con, f"bronze.{source}", target)
        stats[f"bronze.{source}"] = {"seconds": time.perf_counter() - started}
    for model in in_dependency_order(read_models(project)):
        started = time.perf_counter()
        run_model(con, model, out)
        stats[model.name] = {"seconds": time.perf_counter() - started}
    for name, entry in stats.items():
        row = con.execute(f"SELECT count(*) FROM {name}").fetchone()
        entry["rows"] = row[0] if row else 0
        entry["seconds"] = round(entry["seconds"], 3)
    return stats


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--landing", type=Path, required=True)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--project", type=Path, default=DEFAULT_PROJECT)
    args = parser.parse_args(argv)
    started = time.perf_counter()
    con = duckdb.connect()
    tables = run_pipeline(con, args.landing.resolve(), args.out.resolve(), args.project)
    wall = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        json.dumps(
            {
                "engine": f"duckdb {duckdb.__version__}",
                "landing": str(args.landing),
                "wall_seconds": round(wall, 3),
                "peak_rss_mib": round(peak, 1),
                "tables": tables,
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
