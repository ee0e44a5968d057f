"""A KMS plug-in for tests: the master key lives in a file outside the project, and only
`wrap`/`unwrap` calls reach it — the shape a cloud KMS client takes (`module:Class` in
`governance.encryption.key.plugin`, built with `options`)."""

from __future__ import annotations

import os
from pathlib import Path

from cryptography.hazmat.primitives.ciphers.aead import AESGCM


class FileKms:
    def __init__(self, path: str) -> None:
        file = Path(path)
        if not file.exists():
            file.write_bytes(os.urandom(32))
        self._aead = AESGCM(file.read_bytes())
        self._path = path

    @property
    def key_id(self) -> str:
        return f"file-kms:{Path(self._path).name}"

    @property
    def source(self) -> str:
        return f"the file KMS at {self._path}"

    def wrap(self, key: bytes, context: bytes) -> bytes:
        nonce = os.urandom(12)
        return nonce + self._aead.encrypt(nonce, key, context)

    def unwrap(self, wrapped: bytes, context: bytes) -> bytes:
        return self._aead.decrypt(wrapped[:12], wrapped[12:], context)
