"""The files connector: which files are new or changed, and the batch that ingests them."""


from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import replace as replace_fields
from pathlib import Path
from typing import Any

from afluente.connectors.files.config import FilesSource
from afluente.connectors.files.header_schema import header_columns
from afluente.connectors.files.listing import FileEntry, list_files, list_local
from afluente.connectors.files.readers import DOCUMENT_FORMATS, FileReader
from afluente.connectors.files.remote_path import is_remote
from afluente.connectors.protocol import FileScanner, IngestContext, Ingestion, SourceCheck
from afluente.errors import ConnectorError, Location

SUMMARY_EVERY = 50  # commits of progress read back before one sums them all up


def seen_files(history: Sequence[Mapping[str, Any]]) -> dict[str, str]:
    """Every file recorded in `history` (newest first) → its newest recorded signature."""
    seen: dict[str, str] = {}
    for progress in reversed(history):
        seen.update(progress.get("files") or {})
    return seen


class FilesConnector:
    """A glob of files of one format."""

    config_model = FilesSource

    def __init__(self, name: str, config: FilesSource, root: Path, location: Location) -> None:
        self.name = name
        self.config = config
        self.root = root
        self.location = location

    def files(self) -> list[FileEntry]:
        config = self.config
        found = list_files(config.path, self.root, config.storage_options, self.name, self.location)
        if not found and not config.stream:  # a stream's folder may be empty for a while
            raise ConnectorError(
                f"source `{self.name}`: no file matches `{self.config.path}`",
                location=self.location,
                hint=f"check `path` (resolved against {self.root}) or add files there",
            )
        return found

    def declared_columns(self, scanner: FileScanner) -> dict[str, str] | None:
        """The data columns (DuckDB types) bronze will have, when that is cheap to tell:
        csv/tsv from the files' headers (afluente.connectors.files.header_schema), parquet
        from the footers, json/ndjson from the engine's type sample (`FileReader`); not for
        object storage, nor when `options.flatten` reshapes the columns."""
        config = self.config
        if config.format not in DOCUMENT_FORMATS:
            return header_columns(self.name, config, self.root, self.location)
        if config.options.flatten or is_remote(config.path):
            return None
        files = list_local(config.path, self.root)
        if not files:
            return None
        reader = FileReader(self.name, config, self.root, self.location, scanner)
        try:
            return reader.document_columns(files)
        except ConnectorError:
            return None  # the ingest reports what cannot be read, naming the file

    def check(self, history: Sequence[Mapping[str, Any]]) -> SourceCheck:
        try:
            files = self.files()
        except ConnectorError as exc:
            return SourceCheck(error=exc.message)
        if self.config.mode == "snapshot":
            return SourceCheck(signature=_signature(files), detail=f"{len(files)} files")
        new, changed = self._pending(files, seen_files(history))
        detail = f"{len(new)} new, {len(changed)} changed of {len(files)} files"
        return SourceCheck(pending=len(new) + len(changed), detail=detail)

    def read(self, context: IngestContext) -> Ingestion | None:
        files = self.files()
        if self.config.mode == "snapshot":
            return self._ingestion(files, files, context, mode="overwrite")
        seen = {} if context.full_refresh else seen_files(context.history)
        new, changed = self._pending(files, seen)
        if not new and not changed:
            return None
        pending = sorted([*new, *changed], key=lambda f: f.name)
        batch = _paced(pending, self.config.max_files, self.config.max_bytes)
        # the commit replaces the earlier rows of the changed files; Delta checks that every
        # row it writes matches that predicate, so it names each file of the batch (a new
        # file has no earlier rows: naming it deletes nothing)
        replacing = changed and self.config.changed_files == "replace"
        replace = tuple(f.name for f in batch) if replacing else ()
        ingestion = self._ingestion(batch, files, context, mode="append", replace=replace)
        if not self.config.stream:
            return ingestion
        left = len(pending) - len(batch)  # what the next micro-batches will take
        return replace_fields(ingestion, measured=lambda: {
            "lag": {"files": left}, "lag_total": left, "newest_message_at": None})

    def _pending(
        self, files: list[FileEntry], seen: dict[str, str]
    ) -> tuple[list[FileEntry], list[FileEntry]]:
        new = [f for f in files if f.name not in seen]
        changed = [f for f in files if f.name in seen and seen[f.name] != f.signature]
        policy = self.config.changed_files
        if changed and policy == "fail":
            first = changed[0]
            raise ConnectorError(
                f"source `{self.name}`: file `{first.name}` changed after it was ingested "
                f"(was {seen[first.name]}, now {first.signature})"
                + (f" and {len(changed) - 1} more" if len(changed) > 1 else ""),
                location=self.location,
                hint="restore the file, or set `changed_files: replace | append | ignore`",
            )
        if policy == "ignore":
            changed = []
        return new, changed

    def _ingestion(
        self,
        batch: list[FileEntry],
        files: list[FileEntry],
        context: IngestContext,
        mode: str,
        replace: tuple[str, ...] = (),
    ) -> Ingestion:
        scanner = context.file_scanner(self.name, self.location)
        reader = FileReader(self.name, self.config, self.root, self.location, scanner)
        query = reader.query(batch, context.report)
        stream = reader.read(batch, context.report) if query is None else None
        size = sum(f.size for f in batch)
        recorded: dict[str, Any] = {"files": {f.name: f.signature for f in batch}}
        if mode == "overwrite":
            recorded["signature"] = _signature(files)
        elif len(context.history) >= SUMMARY_EVERY:
            # sum up every file seen so far, so older commits (and Delta's log cleanup of
            # them) no longer matter
            everything = seen_files(context.history)
            everything.update(recorded["files"])
            recorded = {"files": everything, "complete": True}
        findings = reader.findings()
        recorded.update(findings)
        summary = f"{_plural(len(batch), 'file')} ({size:,} bytes)" + _described(findings)
        return Ingestion(
            stream=stream,
            query=query,
            mode="overwrite" if mode == "overwrite" else "append",
            progress=recorded,
            replace_sources=replace,
            summary=summary,
            decimal_comma=self.config.decimal_comma,
        )


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}{'s' if count != 1 else ''}"


def _described(findings: Mapping[str, Mapping[str, Any]]) -> str:
    """`findings` for the batch's one-line summary."""
    text = ""
    if blank := findings.get("blank_lines"):
        text += f"; {_plural(sum(blank.values()), 'blank line')} skipped"
    if quarantined := findings.get("quarantined"):
        text += f"; {_plural(len(quarantined), 'file')} quarantined: " + ", ".join(
            f"`{name}` ({reason})" for name, reason in quarantined.items()
        )
    return text


def _signature(files: list[FileEntry]) -> str:
    digest = hashlib.sha256()
    for file in files:
        digest.update(f"{file.name}|{file.signature}\n".encode())
    return digest.hexdigest()[:16]


def _paced(pending: list[FileEntry], max_files: int | None,
           max_bytes: int | None) -> list[FileEntry]:
    """The files of one micro-batch: the first ones (by name) up to `max_files` and, with
    `max_bytes`, as long as their sizes add up to no more than it (at least one file)."""
    batch = pending[:max_files] if max_files else pending
    if max_bytes is None:
        return batch
    total = 0
    for count, entry in enumerate(batch):
        total += entry.size
        if total > max_bytes and count:
            return batch[:count]
    return batch
