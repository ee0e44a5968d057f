"""Files on S3-compatible object storage (`s3://bucket/prefix/*.csv`): list and download.

DuckDB's httpfs extension would need a download at run time, so objects are listed and
fetched with `pyarrow.fs.S3FileSystem`; each file is copied to a local temporary folder in
chunks and read by the same readers as local files.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from urllib.parse import urlsplit

from pyarrow import fs as pafs

from afluente.connectors.files.config import StorageOptions
from afluente.connectors.files.entry import FileEntry
from afluente.connectors.files.remote_path import SCHEME, is_remote
from afluente.errors import ConnectorError, Location, TransientConnectorError

__all__ = ["SCHEME", "download", "glob_regex", "is_remote", "list_objects", "s3_filesystem"]

GLOB_CHARS = re.compile(r"[*?\[]")
CHUNK = 1 << 20


def s3_filesystem(
    options: StorageOptions | None, source: str, location: Location | None = None
) -> pafs.S3FileSystem:
    """An S3 client from the source's `storage_options` (AWS defaults for what is unset)."""
    o = options or StorageOptions()
    kwargs: dict[str, object] = {}
    if o.endpoint_url:
        url = o.endpoint_url if "://" in o.endpoint_url else "https://" + o.endpoint_url
        endpoint = urlsplit(url)
        if endpoint.scheme == "http" and not o.allow_http:
            raise ConnectorError(
                f"source `{source}`: endpoint {o.endpoint_url} is plain http",
                location=location,
                hint="use an https endpoint, or set `storage_options.allow_http: true`",
            )
        kwargs["endpoint_override"] = endpoint.netloc + endpoint.path.rstrip("/")
        kwargs["scheme"] = endpoint.scheme
    if (o.access_key_id is None) != (o.secret_access_key is None):
        raise ConnectorError(
            f"source `{source}`: `storage_options` has only one of access_key_id and "
            "secret_access_key",
            location=location,
            hint="set both (e.g. from ${AWS_ACCESS_KEY_ID} and ${AWS_SECRET_ACCESS_KEY}) or "
            "neither to use the AWS environment",
        )
    if o.access_key_id is not None:
        kwargs.update(access_key=o.access_key_id, secret_key=o.secret_access_key)
        if o.session_token:
            kwargs["session_token"] = o.session_token
    if o.region:
        kwargs["region"] = o.region
    return pafs.S3FileSystem(**kwargs)


def list_objects(
    pattern: str, filesystem: pafs.FileSystem, source: str, location: Location | None = None
) -> list[FileEntry]:
    """The objects matching `s3://bucket/pattern`, sorted; `*` stays within one folder level
    and `**` crosses them, as for local paths."""
    path = pattern[len(SCHEME) :]
    base = _literal_prefix(path)
    matcher = re.compile(glob_regex(path))
    try:
        if base == path:
            infos = [filesystem.get_file_info(path)]
        else:
            infos = filesystem.get_file_info(pafs.FileSelector(base, recursive=True))
    except (OSError, ValueError) as exc:
        raise _storage_error(source, f"cannot list {pattern}", exc, location) from None
    found = [
        FileEntry(
            path=SCHEME + info.path,
            name=SCHEME + info.path,
            size=info.size or 0,
            signature=f"{info.size}:{_mtime_ns(info)}",
        )
        for info in infos
        if info.type == pafs.FileType.File and matcher.fullmatch(info.path)
    ]
    return sorted(found, key=lambda f: f.name)


def download(
    filesystem: pafs.FileSystem,
    entry: FileEntry,
    target: Path,
    source: str,
    location: Location | None = None,
) -> None:
    """Copy one object to `target` in chunks (never the whole object in memory)."""
    try:
        with filesystem.open_input_stream(entry.path[len(SCHEME) :]) as remote, open(
            target, "wb"
        ) as local:
            shutil.copyfileobj(remote, local, CHUNK)
    except OSError as exc:
        raise _storage_error(source, f"cannot download {entry.name}", exc, location) from None


def glob_regex(pattern: str) -> str:
    """A regular expression for a glob: `**/` any folders, `*` and `?` within one level."""
    parts: list[str] = []
    i = 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            parts.append("(?:.*/)?")
            i += 3
        elif pattern.startswith("**", i):
            parts.append(".*")
            i += 2
        elif pattern[i] == "*":
            parts.append("[^/]*")
            i += 1
        elif pattern[i] == "?":
            parts.append("[^/]")
            i += 1
        elif pattern[i] == "[" and "]" in pattern[i + 1 :]:
            end = pattern.index("]", i + 1)
            body = pattern[i + 1 : end]
            parts.append("[" + ("^" + body[1:] if body.startswith("!") else body) + "]")
            i = end + 1
        else:
            parts.append(re.escape(pattern[i]))
            i += 1
    return "".join(parts)


def _literal_prefix(path: str) -> str:
    """The folders before the first glob character (`bucket/in` for `bucket/in/*.csv`)."""
    match = GLOB_CHARS.search(path)
    if match is None:
        return path
    return path[: match.start()].rsplit("/", 1)[0]


def _mtime_ns(info: pafs.FileInfo) -> int:
    return int(info.mtime_ns or 0)


def _storage_error(
    source: str, what: str, exc: Exception, location: Location | None
) -> ConnectorError:
    detail = " ".join(str(exc).split())
    transient = any(word in detail for word in ("NETWORK_CONNECTION", "SLOW_DOWN", "503"))
    kind = TransientConnectorError if transient else ConnectorError
    return kind(
        f"source `{source}`: {what}: {detail}",
        location=location,
        hint="check `path` and `storage_options` (endpoint_url, region, keys)"
        + ("; the next run retries" if transient else ""),
    )
