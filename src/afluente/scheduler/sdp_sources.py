"""A `files` source as a Spark Declarative Pipelines definition of its bronze table.

`mode: incremental` (each file ingested once) becomes a streaming table over Spark's file
stream source; `mode: snapshot` (every file reloaded when any changes) a materialized view
over a batch read of the files. Both read with the source's format options and add the bronze
columns afluente adds: `_rescued_data` and `_run_id` (NULL: SDP has neither), `_source`,
`_ingested_at` (the time the batch was read) and `_row_hash`, the md5 of the raw values
joined by chr(31), NULL written `\\N`, as afluente computes it.

What Spark's readers cannot do as afluente does is refused: sources of other connectors,
xlsx, avro and auto-detected `json`, type hints (afluente rescues uncastable values), nested
records flattened, object storage (no hadoop-aws jars).
"""

from __future__ import annotations

from pathlib import Path

from pydantic import ValidationError

from afluente.config import Project
from afluente.connectors.files.config import FilesSource
from afluente.model.nodes import Node
from afluente.scheduler.sdp_models import Definition, Refusal

SPARK_FORMATS = {"csv": "csv", "tsv": "csv", "ndjson": "json", "parquet": "parquet",
                 "orc": "orc"}
FORMAT_REASONS = {
    "xlsx": "Spark has no built-in xlsx reader",
    "avro": "Spark reads avro only with the external spark-avro package",
    "json": "afluente auto-detects a JSON array or JSON lines; Spark's reader must be told "
            "which (declare `format: ndjson` for JSON lines)",
}
CHANGED_FILES_NOTE = (
    "Spark's file stream reads each file name once: a file changed after it was read is not "
    "read again (afluente: `changed_files: {mode}`)"
)


def source_definition(node: Node, project: Project) -> Definition | Refusal:
    """The bronze table of the source `node` ingests, or why SDP cannot read it the same."""
    assert node.source_name is not None
    spec = project.config.sources[node.source_name]
    if spec.type != "files":
        return _refuse(node, f"a `{spec.type}` source: the export reads `files` sources only")
    try:
        source = FilesSource.model_validate(spec.model_dump(exclude_unset=True))
    except ValidationError as exc:  # `afluente validate` reports it with its line
        return _refuse(node, f"invalid source: {exc.errors()[0]['msg']}")
    reason = _unreadable(source)
    if reason is not None:
        return _refuse(node, reason)
    return _definition(node, source, _path(source.path, project.root))


def streams(node: Node, project: Project) -> bool:
    """Whether the source's bronze table is a streaming table (SDP can stream from it)."""
    spec = project.config.sources.get(node.source_name or "")
    return spec is not None and spec.type == "files" and getattr(spec, "mode", None) in (
        None, "incremental")


def _refuse(node: Node, reason: str) -> Refusal:
    return Refusal(node.ref, node.location, f"source `{node.source_name}`: {reason}")


def _unreadable(source: FilesSource) -> str | None:
    if source.format in FORMAT_REASONS:
        return f"format `{source.format}`: {FORMAT_REASONS[source.format]}"
    if source.columns:
        return ("type hints in `columns:`: afluente keeps a value that does not cast in "
                "`_rescued_data`; Spark's readers would make it NULL or fail")
    if source.options.flatten:
        return "`options.flatten`: SDP has no reader option that flattens nested records"
    if "://" in source.path or source.storage_options is not None:
        return ("files on object storage: Spark reads them only with the hadoop-aws jars, "
                "which afluente does not ship")
    return None


def _path(path: str, root: Path) -> str:
    given = Path(path)
    return str(given if given.is_absolute() else (root / given).resolve())


def reader_options(source: FilesSource) -> dict[str, str]:
    """The Spark reader options that read the files as afluente does."""
    if source.format not in ("csv", "tsv"):
        return {}
    options = source.options
    separator = options.delimiter
    if source.format == "tsv" and "delimiter" not in options.model_fields_set:
        separator = "\t"
    return {"sep": separator, "header": str(options.header).lower(), "quote": options.quote,
            "escape": options.escape, "encoding": options.encoding}


def _definition(node: Node, source: FilesSource, path: str) -> Definition:
    streaming = source.mode == "incremental"
    construct = "streaming table (file stream)" if streaming else "materialized view (files)"
    reader = "spark.readStream" if streaming else "spark.read"
    decorator = "dp.table" if streaming else "dp.materialized_view"
    fmt = SPARK_FORMATS[source.format]
    options = reader_options(source)
    description = " ".join((source.description or f"source {node.source_name}").split())
    text = (
        f"# {node.ref}: afluente source `{node.source_name}` ({source.format} files, "
        f"mode {source.mode}) as an SDP {construct}.\n"
        "# Generated by `afluente spark export`; edit afluente.yml, not this file.\n"
        "from pyspark import pipelines as dp\nfrom pyspark.sql import functions as F\n\n"
        f"PATH = {path!r}\nFORMAT = {fmt!r}\nOPTIONS = {options!r}\n"
        "# the files' columns, read once when the pipeline is defined (the stream needs them)\n"
        "SCHEMA = spark.read.format(FORMAT).options(**OPTIONS).load(PATH).schema\n\n\n"
        f"@{decorator}(name={str(node.ref)!r}, comment={description!r})\n"
        f"def {node.ref.layer}__{node.ref.name}():\n"
        f"    frame = {reader}.format(FORMAT).options(**OPTIONS).schema(SCHEMA).load(PATH)\n"
        "    raw = [F.coalesce(F.col(f\"`{c}`\").cast(\"string\"), F.lit(\"\\\\N\"))\n"
        "           for c in SCHEMA.fieldNames()]\n"
        "    return frame.select(\n"
        "        \"*\",\n"
        "        F.lit(None).cast(\"string\").alias(\"_rescued_data\"),\n"
        f"        F.lit({node.source_name!r}).alias(\"_source\"),\n"
        "        F.current_timestamp().alias(\"_ingested_at\"),\n"
        "        F.lit(None).cast(\"string\").alias(\"_run_id\"),\n"
        "        F.md5(F.concat_ws(chr(31), *raw)).alias(\"_row_hash\"),\n"
        "    )\n"
    )
    notes = () if not streaming or source.changed_files == "ignore" else (
        CHANGED_FILES_NOTE.format(mode=source.changed_files),)
    return Definition(ref=node.ref, construct=construct,
                      path=f"transformations/{node.ref.layer}/{node.ref.name}.py",
                      text=text, notes=notes)
