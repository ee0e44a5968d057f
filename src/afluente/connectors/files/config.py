"""The keys of a `type: files` source."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from afluente.config import SourceBase
from afluente.config.sizes import ByteSize

FileFormat = Literal["csv", "tsv", "json", "ndjson", "parquet", "avro", "orc", "xlsx"]
FileMode = Literal["incremental", "snapshot"]
ChangedFiles = Literal["replace", "append", "ignore", "fail"]
Encoding = Literal["utf-8", "utf-16", "latin-1", "cp1252"]

TEXT_FORMATS = ("csv", "tsv")


class FileOptions(BaseModel):
    """How to read the files. Text cells (csv, tsv, xlsx) land in bronze as text unless
    hinted in `columns:`; typed formats keep their own types.

    `decimal_separator: ","` says numbers are written `1.234,56`: hinted numeric columns are
    cast after dropping the `.` thousands separators. `flatten` turns nested records into
    `parent__child` columns; `sheet` picks the xlsx sheet (the first by default).
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    delimiter: str = Field(default=",", min_length=1, max_length=1)
    header: bool = True
    quote: str = Field(default='"', min_length=1, max_length=1)
    escape: str = Field(default='"', min_length=1, max_length=1)
    encoding: Encoding = "utf-8"
    decimal_separator: Literal[".", ","] = "."
    flatten: bool = False
    sheet: str | None = None


CsvOptions = FileOptions  # the name earlier releases used


class StorageOptions(BaseModel):
    """Where and how to reach object storage (`path: s3://bucket/prefix/*.csv`).

    Put secrets in the environment and reference them: `${AWS_SECRET_ACCESS_KEY}`. Without
    keys, the usual AWS environment variables and profiles apply.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    endpoint_url: str | None = None
    region: str | None = None
    access_key_id: str | None = None
    secret_access_key: str | None = Field(default=None, repr=False)
    session_token: str | None = Field(default=None, repr=False)
    allow_http: bool = False


class FilesSource(SourceBase):
    """Files matched by a glob, ingested into a bronze table.

    `mode: incremental` (the default) ingests each file once, like Auto Loader: a run reads
    only files it has not seen, and records them in the same Delta commit as their rows.
    `changed_files` says what happens when a seen file changes: `replace` its rows (in the
    same commit), `append` the new content, `ignore` it, or `fail`.
    `mode: snapshot` reloads every file whenever any of them changes.
    `stream: true` makes it a continuous source of `afluente stream`: each micro-batch
    ingests the files landed since the last one (an empty folder is nothing new yet, not an
    error); `max_files` caps the files per micro-batch (back-pressure, oldest names first),
    `max_bytes` their total size (`256 MiB`; a larger file alone is a micro-batch of its own).
    """

    type: Literal["files"]
    path: str
    format: FileFormat = "csv"
    options: FileOptions = FileOptions()
    storage_options: StorageOptions | None = None
    mode: FileMode = "incremental"
    changed_files: ChangedFiles = "replace"
    stream: bool = False
    max_files: int | None = Field(default=None, ge=1)
    max_bytes: ByteSize | None = None

    @model_validator(mode="after")
    def _options_fit_the_format(self) -> FilesSource:
        given = self.options.model_fields_set
        if self.format not in TEXT_FORMATS:
            text_only = sorted(given & {"delimiter", "quote", "escape", "encoding"})
            if text_only:
                raise ValueError(
                    f"`options.{text_only[0]}` applies to csv and tsv files, not {self.format}"
                )
        if "sheet" in given and self.format != "xlsx":
            raise ValueError(f"`options.sheet` applies to xlsx files, not {self.format}")
        paced = self.max_files is not None or self.max_bytes is not None
        if self.mode == "snapshot" and (self.stream or paced):
            raise ValueError("`stream`, `max_files` and `max_bytes` need `mode: incremental` "
                             "(a snapshot "
                             "reloads every file, it has no new files to stream)")
        return self

    @property
    def decimal_comma(self) -> bool:
        return self.options.decimal_separator == ","
