"""The keys of a `type: files` source."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict

from afluente.config import SourceBase

FileFormat = Literal["csv", "tsv", "json", "ndjson", "parquet"]
FileMode = Literal["incremental", "snapshot"]
ChangedFiles = Literal["replace", "append", "ignore", "fail"]


class CsvOptions(BaseModel):
    """How to read delimited text files. Columns land in bronze as text unless hinted."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    delimiter: str = ","
    header: bool = True
    quote: str = '"'
    escape: str = '"'
    encoding: Literal["utf-8", "utf-16", "latin-1"] = "utf-8"


class FilesSource(SourceBase):
    """Files matched by a glob, ingested into a bronze table.

    `mode: incremental` (the default) ingests each file once, like Auto Loader: a run reads
    only files it has not seen, and records them in the same Delta commit as their rows.
    `changed_files` says what happens when a seen file changes: `replace` its rows (in the
    same commit), `append` the new content, `ignore` it, or `fail`.
    `mode: snapshot` reloads every file whenever any of them changes.
    """

    type: Literal["files"]
    path: str
    format: FileFormat = "csv"
    options: CsvOptions = CsvOptions()
    mode: FileMode = "incremental"
    changed_files: ChangedFiles = "replace"
