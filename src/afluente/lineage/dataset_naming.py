"""Dataset identities that follow the OpenLineage naming conventions
(https://openlineage.io/docs/spec/naming): a namespace for the store and a name inside it.

| store | namespace | name |
|---|---|---|
| local files, local Delta tables | `file` | absolute path |
| object stores (`s3://`, `gs://`, `abfss://`, ...) | `scheme://bucket` | object key |
| PostgreSQL | `postgres://host:port` | `database.schema.table` |
| MySQL / MariaDB | `mysql://host:port` | `database.table` |
| REST endpoints | `https://host[:port]` | path |

Pure functions of a location string; credentials never reach a namespace."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from urllib.parse import SplitResult, urlsplit

LOCAL = "file"
_SCHEMES = {"gcs": "gs", "s3a": "s3", "postgresql": "postgres", "mariadb": "mysql"}
_DATABASES = {"postgres": "public", "mysql": ""}  # scheme -> default schema ("" = none)
_WITH_CREDENTIALS = ("http", "https", "postgres", "mysql")


@dataclass(frozen=True)
class DatasetName:
    """Where a dataset lives, as OpenLineage names it."""

    namespace: str
    name: str

    @property
    def source_uri(self) -> str:
        """The store as an absolute URI (the `dataSource` facet's `uri`): the namespace, or
        `file:///` for the local file system, whose namespace `file` is not a URI."""
        return "file:///" if self.namespace == LOCAL else self.namespace


def dataset_name(location: str, root: Path) -> DatasetName:
    """The OpenLineage identity of `location`: a path (relative ones are resolved against
    `root`), a `file://` URI, an object store URI or a `postgres://host:port/db/table`."""
    if "://" not in location:
        return DatasetName(LOCAL, str((root / location).resolve()))
    parts = urlsplit(location)
    scheme = _SCHEMES.get(parts.scheme, parts.scheme)
    if scheme == LOCAL:
        return DatasetName(LOCAL, parts.path)
    if scheme in _DATABASES:
        return _database_name(scheme, parts)
    return DatasetName(f"{scheme}://{_authority(scheme, parts)}", parts.path.lstrip("/"))


def _database_name(scheme: str, parts: SplitResult) -> DatasetName:
    database, _, table = parts.path.strip("/").partition("/")
    default_schema = _DATABASES[scheme]
    if default_schema and "." not in table:
        table = f"{default_schema}.{table}"
    name = ".".join(p for p in (database, table) if p)
    return DatasetName(f"{scheme}://{_authority(scheme, parts)}", name)


def _authority(scheme: str, parts: SplitResult) -> str:
    """host[:port], without `user:password@` (kept for `abfss://container@account`)."""
    if scheme in _WITH_CREDENTIALS:
        return parts.netloc.rpartition("@")[2]
    return parts.netloc
