"""Whether a landing path names object storage (`s3://…`): a check that short commands
make without loading the object-storage client (pyarrow.fs and its TLS stack)."""

from __future__ import annotations

SCHEME = "s3://"


def is_remote(path: str) -> bool:
    return path.startswith(SCHEME)
