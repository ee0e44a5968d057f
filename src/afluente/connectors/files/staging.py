"""Local copies of the files that need one before they are read.

Objects on S3 are downloaded; text in an encoding DuckDB cannot read is transcoded to
UTF-8. Local files that need neither are read in place. The copies live in one temporary
folder, removed when the stream closes.
"""

from __future__ import annotations

import shutil
import tempfile
import weakref
from dataclasses import dataclass
from pathlib import Path

from afluente.connectors.files.config import TEXT_FORMATS, FilesSource
from afluente.connectors.files.encodings import needs_transcoding, transcode_to_utf8
from afluente.connectors.files.entry import FileEntry
from afluente.connectors.files.remote_path import is_remote
from afluente.errors import ConnectorError, Location


@dataclass(frozen=True)
class LocalFile:
    """A matched file and the local path its reader opens."""

    entry: FileEntry
    path: str


class Staging:
    """Makes the local copies, and removes them on `close`."""

    def __init__(self, name: str, config: FilesSource, location: Location | None = None) -> None:
        self.name = name
        self.config = config
        self.location = location
        self._folder: Path | None = None

    @property
    def encoding(self) -> str:
        """The encoding readers see: UTF-8 once a file was transcoded."""
        transcoded = self._transcodes()
        return "utf-8" if transcoded else self.config.options.encoding

    def stage(self, entries: list[FileEntry]) -> list[LocalFile]:
        remote = [e for e in entries if is_remote(e.path)]
        filesystem = None
        if remote:  # the object-storage client (pyarrow.fs, TLS) only for remote files
            from afluente.connectors.files.object_storage import download, s3_filesystem

            filesystem = s3_filesystem(self.config.storage_options, self.name, self.location)
        staged: list[LocalFile] = []
        for number, entry in enumerate(entries):
            path = Path(entry.path)
            if filesystem is not None and is_remote(entry.path):
                path = self.folder() / f"{number}-{Path(entry.path).name}"
                download(filesystem, entry, path, self.name, self.location)
            if self._transcodes():
                path = self._transcode(entry, path, number)
            staged.append(LocalFile(entry, str(path)))
        return staged

    def close(self) -> None:
        if self._folder is not None:
            shutil.rmtree(self._folder, ignore_errors=True)
            self._folder = None

    def _transcodes(self) -> bool:
        fmt, encoding = self.config.format, self.config.options.encoding
        return fmt in TEXT_FORMATS and needs_transcoding(encoding)

    def _transcode(self, entry: FileEntry, path: Path, number: int) -> Path:
        target = self.folder() / f"{number}-utf8-{path.name}"
        try:
            transcode_to_utf8(path, target, self.config.options.encoding)
        except OSError as exc:
            raise ConnectorError(
                f"source `{self.name}`: cannot read file `{entry.name}`: {exc.strerror}",
                location=self.location,
                hint="check the file exists and is readable; nothing was written",
            ) from None
        if path.parent == self._folder:
            path.unlink()  # the downloaded original is no longer needed
        return target

    def folder(self) -> Path:
        """The temporary folder of this batch's copies (made on first use)."""
        if self._folder is None:
            self._folder = Path(tempfile.mkdtemp(prefix="afluente-files-"))
            # also removed if the stream is dropped before it is read (no `close` then)
            weakref.finalize(self, shutil.rmtree, self._folder, True)
        return self._folder
