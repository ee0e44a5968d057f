"""One model as a Spark Declarative Pipelines definition (`afluente spark export`).

Each kind maps to the SDP construct that keeps its meaning, or is refused with the reason:

- `full` → a materialized view; `view` → a temporary view (named `layer__table`: SDP's
  temporary views have no schema, and readers are rewritten to that name);
- `append` → a streaming table whose query streams its one append-only input (a source's
  bronze table or another `append` model) and reads the others whole, as afluente reads only
  the new rows of the one input that grew;
- `apply_changes` → a streaming table fed by an auto CDC flow (keys, sequence, deletes, SCD
  type, tracked columns) from a temporary view of the model's query over that stream;
- `merge`, `time_range`, `snapshot` have no SDP construct with the same result: refused.

SQL stays in DuckDB's dialect in the project and is transpiled to Spark SQL by the Spark
engine's transpiler; a Python model is called with Spark DataFrames from a copy of its file.
Expectations become comments: pyspark.pipelines has no expectations API.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import sqlglot
from sqlglot.errors import ErrorLevel, ParseError, UnsupportedError

from afluente.engines.spark_sql import Names, generate, parse_one, rewrite
from afluente.errors import AfluenteError, Location
from afluente.model.decorators import MARKER, PythonModelSpec
from afluente.model.nodes import Node
from afluente.model.refs import TableRef
from afluente.model.sql_model import parse_query, table_references

STREAM_PREFIX = "__afluente_stream__"
EXPECTATIONS_NOTE = "not enforced: pyspark.pipelines has no expectations API"
REFUSED_KINDS = {
    "merge": "SDP has no upsert in arrival order: its only upsert (auto CDC) orders rows by "
             "a sequence column, so a re-send with an older value would not replace the "
             "stored row as afluente's merge does (make it `apply_changes` with `sequence_by` "
             "to export it)",
    "time_range": "SDP has no flow that replaces time partitions: a materialized view would "
                  "recompute every partition, including late rows outside `lookback` that "
                  "afluente leaves alone",
    "snapshot": "pyspark.pipelines has no SCD2-from-snapshots flow (auto CDC from snapshot "
                "is not in open-source Spark)",
}


@dataclass(frozen=True)
class Definition:
    """One file of the SDP project and what it defines."""

    ref: TableRef
    construct: str  # the SDP construct, as the export report names it
    path: str  # relative to the exported project
    text: str
    expectations: int = 0
    notes: tuple[str, ...] = ()
    copies: Mapping[str, str] = field(default_factory=dict)  # relative path → source file


@dataclass(frozen=True)
class Refusal:
    """A table the export cannot write as SDP, and why."""

    ref: TableRef
    location: Location
    reason: str


@dataclass(frozen=True)
class Context:
    """What a model's definition needs to know about the rest of the export."""

    append_only: frozenset[TableRef]  # exported tables SDP can stream from
    views: Mapping[TableRef, str]  # exported `view` models → their temporary view name
    variables: Mapping[str, Any]

    def name_of(self, ref: TableRef) -> str:
        return self.views.get(ref, str(ref))


def view_name(ref: TableRef) -> str:
    return f"{ref.layer}__{ref.name}"


def model_definition(node: Node, context: Context) -> Definition | Refusal:
    """The SDP definition of one model, or why it has none."""
    if node.kind in REFUSED_KINDS:
        return Refusal(node.ref, node.location, f"kind `{node.kind}`: {REFUSED_KINDS[node.kind]}")
    try:
        if node.language == "python":
            _refuse_duckdb_function(node)
            return _python_definition(node, context, _streamed(node, context))
        streamed = _streamed(node, context)
        return _sql_definition(node, context, streamed)
    except _Refused as refused:
        return Refusal(node.ref, node.location, str(refused))
    except AfluenteError as exc:
        return Refusal(node.ref, exc.location or node.location, exc.message)


class _Refused(Exception):
    pass


def reads(node: Node) -> tuple[TableRef, ...]:
    """The tables the model's code reads (not those only its expectations name)."""
    if node.language == "python":
        spec: PythonModelSpec = getattr(node.function, MARKER)
        return tuple(TableRef.parse(text) for text in spec.inputs)
    assert node.sql is not None
    return tuple(d.ref for d in table_references(parse_query(node.sql, node.file), node.file))


def _streamed(node: Node, context: Context) -> TableRef | None:
    """The one input an `append`/`apply_changes` model streams (None for the other kinds)."""
    if node.kind not in ("append", "apply_changes"):
        return None
    candidates = sorted({r for r in reads(node) if r in context.append_only})
    if len(candidates) == 1:
        return candidates[0]
    if not candidates:
        raise _Refused(
            f"kind `{node.kind}` reads only new upstream rows, but none of its inputs is "
            "append-only in the export (a source or an `append` model): SDP streams only "
            "from those"
        )
    raise _Refused(
        f"kind `{node.kind}` reads {len(candidates)} append-only inputs "
        f"({', '.join(map(str, candidates))}); afluente reads them whole when several grow, "
        "SDP would need a stream-stream join with watermarks"
    )


# -- SQL models ---------------------------------------------------------------------------------


def spark_query(node: Node, context: Context, streamed: TableRef | None) -> str:
    """The model's query in Spark SQL: views renamed, the streamed input as `STREAM(...)`."""
    assert node.sql is not None
    names = {(r.layer, r.name): name for r, name in context.views.items()}
    if streamed is not None:
        names[(streamed.layer, streamed.name)] = STREAM_PREFIX + view_name(streamed)
    tree = rewrite(parse_one(node.sql, node.location, str(node.ref)),
                   Names(names, context.variables))
    for part in tree.walk():  # the config header and comments stay in the model file
        part.comments = None
    generate(tree, node.sql, node.location, str(node.ref))  # refuses what Spark lacks
    text = tree.sql(dialect="spark", pretty=True)
    if streamed is not None:
        text = text.replace(f"`{STREAM_PREFIX}{view_name(streamed)}`", f"STREAM({streamed})")
    return text


def _sql_definition(node: Node, context: Context, streamed: TableRef | None) -> Definition:
    query = spark_query(node, context, streamed)
    if node.kind == "apply_changes":
        construct = "streaming table + auto CDC flow"
        body = _python_cdc(node, "spark.sql(QUERY)")
        text = (_header(node, construct, "#") + "from pyspark import pipelines as dp\n\n"
                f"QUERY = {_py_text(query)}\n\n\n" + body)
        return _definition(node, construct, text, "py")
    construct, statement = {
        "full": ("materialized view", f"CREATE MATERIALIZED VIEW {node.ref}"),
        "view": ("temporary view", f"CREATE TEMPORARY VIEW {context.name_of(node.ref)}"),
        "append": ("streaming table", f"CREATE STREAMING TABLE {node.ref}"),
    }[node.kind]
    comment = node.config.description
    if comment and node.kind != "view":
        statement += f"\nCOMMENT {_sql_string(comment)}"
    header = _header(node, construct, "--")
    return _definition(node, construct, f"{header}{statement} AS\n{query}\n", "sql")


def _sql_string(text: str) -> str:
    return sqlglot.exp.Literal.string(" ".join(text.split())).sql(dialect="spark")


def spark_expression(sql: str, key: str) -> str:
    """A DuckDB SQL expression (a delete condition) in Spark SQL."""
    try:
        return sqlglot.parse_one(sql, read="duckdb").sql(
            dialect="spark", unsupported_level=ErrorLevel.RAISE)
    except (ParseError, UnsupportedError) as exc:
        raise _Refused(f"`{key}: {sql}` does not translate to Spark SQL: "
                       f"{str(exc).splitlines()[0]}") from None


# -- Python models ------------------------------------------------------------------------------


def _python_definition(node: Node, context: Context, streamed: TableRef | None) -> Definition:
    spec: PythonModelSpec = getattr(node.function, MARKER)
    copy = f"models/{node.ref.layer}/{node.file.name}"
    reads = [_read(TableRef.parse(t), context, streamed) for t in spec.inputs]
    arguments = (", ".join(f"{k}={r}" for k, r in zip(spec.keywords, reads, strict=True))
                 if spec.keywords else ", ".join(reads))
    function = spec.function.__name__
    load = f"MODEL = load_model({_py(copy)}, {_py(function)})\n\n\n"
    call = f"MODEL({arguments})"
    if node.kind == "apply_changes":
        body = _python_cdc(node, call)
        construct = "streaming table + auto CDC flow"
    else:
        construct, decorator = {
            "full": ("materialized view", "dp.materialized_view"),
            "view": ("temporary view", "dp.temporary_view"),
            "append": ("streaming table", "dp.table"),
        }[node.kind]
        arguments_of = [f"name={_py(context.name_of(node.ref))}"]
        if node.config.description and node.kind != "view":
            arguments_of.append(f"comment={_py(' '.join(node.config.description.split()))}")
        body = (f"@{decorator}({', '.join(arguments_of)})\n"
                f"def {view_name(node.ref)}():\n    return {call}\n")
    text = _header(node, construct, "#") + PYTHON_IMPORTS + LOADER + load + body
    return _definition(node, construct, text, "py", copies={copy: str(node.file)},
                       notes=("afluente must be importable where SDP runs the pipeline "
                              "(the model file imports it)",))


def _refuse_duckdb_function(node: Node) -> None:
    annotations = getattr(node.function, "__annotations__", {})
    if any("duckdb" in str(a).lower() for a in annotations.values()) or _IMPORTS_DUCKDB.search(
        node.code
    ):
        raise _Refused(
            "a Python model written for DuckDB relations (it imports or annotates duckdb); "
            "SDP calls it with Spark DataFrames: write it with DataFrame methods both engines "
            "have, or as SQL"
        )


_IMPORTS_DUCKDB = re.compile(r"^\s*(import|from)\s+duckdb\b", re.MULTILINE)


def _read(ref: TableRef, context: Context, streamed: TableRef | None) -> str:
    reader = "spark.readStream" if ref == streamed else "spark.read"
    return f"{reader}.table({_py(context.name_of(ref))})"


PYTHON_IMPORTS = (
    "import importlib.util\nfrom pathlib import Path\n\nfrom pyspark import pipelines as dp\n\n\n"
)
LOADER = '''def load_model(relative, function):
    """The afluente model function of a file copied beside this project."""
    path = Path(__file__).resolve().parents[2] / relative
    name = "afluente_sdp_" + relative.replace("/", "_").removesuffix(".py")
    module_spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(module_spec)
    module_spec.loader.exec_module(module)
    return getattr(module, function)


'''


# -- apply_changes ------------------------------------------------------------------------------


def _python_cdc(node: Node, changes: str) -> str:
    """A streaming table, the temporary view of the change events, and the auto CDC flow."""
    config = node.config
    source = view_name(node.ref) + "__changes"
    table_args = [_py(str(node.ref))]
    if config.description:
        table_args.append(f"comment={_py(' '.join(config.description.split()))}")
    flow = [f"target={_py(str(node.ref))}", f"source={_py(source)}",
            f"keys={_py(list(config.keys or ()))}",
            f"sequence_by={_py(config.sequence_by)}"]
    if config.apply_as_deletes:
        deletes = spark_expression(config.apply_as_deletes, "apply_as_deletes")
        flow.append(f"apply_as_deletes={_py(deletes)}")
    if config.except_columns:
        flow.append(f"except_column_list={_py(list(config.except_columns))}")
    flow.append(f"stored_as_scd_type={config.scd_type or 1}")
    if config.track_history_columns:
        flow.append(f"track_history_column_list={_py(list(config.track_history_columns))}")
    return (f"dp.create_streaming_table({', '.join(table_args)})\n\n\n"
            f"@dp.temporary_view(name={_py(source)})\n"
            f"def {source}():\n    return {changes}\n\n\n"
            f"dp.create_auto_cdc_flow(\n    " + ",\n    ".join(flow) + ",\n)\n")


# -- text ---------------------------------------------------------------------------------------


def _header(node: Node, construct: str, mark: str) -> str:
    lines = [f"{node.ref}: afluente {node.language} model {node.file.name} "
             f"(kind `{node.kind}`) as an SDP {construct}.",
             "Generated by `afluente spark export`; edit the model, not this file."]
    lines += [f"expectation ({EXPECTATIONS_NOTE}): {json.dumps(e, sort_keys=True, default=str)}"
              for e in node.config.expectations]
    return "".join(f"{mark} {line}\n" for line in lines)


def _definition(node: Node, construct: str, text: str, suffix: str,
                copies: Mapping[str, str] | None = None,
                notes: Iterable[str] = ()) -> Definition:
    if node.kind == "apply_changes" and node.config.scd_type == 2:
        notes = (*notes, "SCD2 validity columns are SDP's __START_AT/__END_AT, not "
                 "valid_from/valid_to/is_current")
    return Definition(
        ref=node.ref, construct=construct,
        path=f"transformations/{node.ref.layer}/{node.ref.name}.{suffix}",
        text=text,
        expectations=len(node.config.expectations), notes=tuple(notes),
        copies=dict(copies or {}),
    )


def _py_text(text: str) -> str:
    """A multi-line string as a raw triple-quoted literal when it can be one."""
    if '"""' in text or text.endswith("\\"):
        return _py(text)
    return f'r"""\n{text}\n"""'


def _py(value: Any) -> str:
    """A Python literal of `value` (strings, lists of strings, None)."""
    return repr(value)
