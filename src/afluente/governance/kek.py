"""Key-encryption keys (KEKs): the master key that wraps the data keys of the keyring.

Three sources (`governance.encryption.key.source`):

- `passphrase`: a key derived with scrypt from a passphrase (read from an environment
  variable), with the salt kept in the keyring file: the keyring is a local key file
  protected by a passphrase;
- `env`: 32 random bytes, base64 or hex, in `AFLUENTE_MASTER_KEY`;
- `kms`: a plug-in, `module:Class`, built with the `options` mapping; it implements
  `KeyEncryptionKey` (wrapping and unwrapping happen in the KMS, the master key never
  reaches the machine).

A local KEK is identified by a fingerprint (an HMAC of a fixed text under the key), so a
wrong passphrase or key is told apart from a damaged keyring before anything is written.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import importlib
import os
from collections.abc import Mapping
from typing import Protocol, runtime_checkable

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

from afluente.config.governance import KeySpec
from afluente.errors import EncryptionKeyError

KEY_BYTES = 32
NONCE_BYTES = 12
#: scrypt's cost: 2**15 blocks of 8 x 128 bytes (32 MiB, ~0.1 s); kept in the keyring, so
#: it can be raised for new keyrings without breaking old ones
SCRYPT_N = 2**15


@runtime_checkable
class KeyEncryptionKey(Protocol):
    """Wraps and unwraps data keys. A KMS plug-in implements this (and takes its settings
    as keyword arguments: `options` in `afluente.yml`)."""

    @property
    def key_id(self) -> str:
        """A stable name of the key (never the key): the keyring records it."""

    @property
    def source(self) -> str:
        """Where the key comes from, for messages (`$AFLUENTE_MASTER_KEY`, `kms:...`)."""

    def wrap(self, key: bytes, context: bytes) -> bytes:
        """`key` encrypted, bound to `context` (unwrapping with another context fails)."""

    def unwrap(self, wrapped: bytes, context: bytes) -> bytes:
        """The key `wrap` was given; raises `EncryptionKeyError` when this KEK did not wrap
        it (or `context` differs)."""


class LocalKek:
    """A KEK held in this process's memory (from a passphrase or the environment)."""

    def __init__(self, key: bytes, source: str) -> None:
        if len(key) != KEY_BYTES:
            raise EncryptionKeyError(f"the master key from {source} is {len(key)} bytes; it "
                                     f"must be {KEY_BYTES}",
                                     hint="generate one: python -c \"import os, base64; "
                                          "print(base64.b64encode(os.urandom(32)).decode())\"")
        self._aead = AESGCM(key)
        self._source = source
        self._id = "local:" + hmac.new(key, b"afluente key id", hashlib.sha256).hexdigest()[:16]

    @property
    def key_id(self) -> str:
        return self._id

    @property
    def source(self) -> str:
        return self._source

    def wrap(self, key: bytes, context: bytes) -> bytes:
        nonce = os.urandom(NONCE_BYTES)
        return nonce + self._aead.encrypt(nonce, key, context)

    def unwrap(self, wrapped: bytes, context: bytes) -> bytes:
        try:
            return self._aead.decrypt(wrapped[:NONCE_BYTES], wrapped[NONCE_BYTES:], context)
        except InvalidTag:
            raise EncryptionKeyError(
                f"the master key {self._id} (from {self._source}) does not open the data "
                f"key {context.decode(errors='replace')!r}",
                hint="the keyring was changed or belongs to another key") from None


def derive(passphrase: str, salt: bytes, n: int = SCRYPT_N) -> bytes:
    """The key scrypt derives from `passphrase` and `salt`."""
    return Scrypt(salt=salt, length=KEY_BYTES, n=n, r=8, p=1).derive(passphrase.encode())


def passphrase_kek(spec: KeySpec, salt: bytes, n: int, variable: str | None = None) -> LocalKek:
    """The KEK from the passphrase in `$passphrase_env` (or `variable`)."""
    name = variable or spec.passphrase_env
    passphrase = os.environ.get(name)
    if not passphrase:
        raise EncryptionKeyError(f"the keyring is protected by a passphrase and ${name} "
                                 "holds none", hint=f"export {name}=... (the passphrase)")
    return LocalKek(derive(passphrase, salt, n), f"the passphrase in ${name}")


def env_kek(spec: KeySpec, variable: str | None = None) -> LocalKek:
    """The KEK in `$env` (or `variable`): 32 bytes, base64 or hex."""
    name = variable or spec.env
    text = os.environ.get(name, "").strip()
    if not text:
        raise EncryptionKeyError(f"the master key is read from ${name}, which is not set",
                                 hint=f"export {name}=<32 random bytes, base64>")
    return LocalKek(_decoded(text, name), f"${name}")


def _decoded(text: str, name: str) -> bytes:
    try:
        return bytes.fromhex(text) if len(text) == 2 * KEY_BYTES else base64.b64decode(
            text, validate=True)
    except (ValueError, binascii.Error):
        raise EncryptionKeyError(f"${name} is neither base64 nor hex",
                                 hint="store 32 random bytes, base64-encoded") from None


def plugin_kek(spec: KeySpec) -> KeyEncryptionKey:
    """The KMS plug-in `spec.plugin` (`module:Class`) built with `spec.options`."""
    assert spec.plugin is not None
    module_name, _, class_name = spec.plugin.partition(":")
    try:
        factory = getattr(importlib.import_module(module_name), class_name)
    except (ImportError, AttributeError) as exc:
        raise EncryptionKeyError(f"the KMS plug-in {spec.plugin} cannot be loaded: {exc}",
                                 hint="install the package that provides it") from None
    kek = factory(**dict(spec.options))
    if not isinstance(kek, KeyEncryptionKey):
        raise EncryptionKeyError(f"the KMS plug-in {spec.plugin} has no key_id, source, "
                                 "wrap and unwrap", hint="implement KeyEncryptionKey")
    return kek


def open_kek(spec: KeySpec, salt: bytes | None, n: int,
             variables: Mapping[str, str] | None = None) -> KeyEncryptionKey:
    """The KEK `spec` declares (`variables`: another variable to read it from, for
    rotation)."""
    other = (variables or {}).get(spec.source)
    if spec.source == "passphrase":
        if salt is None:
            raise EncryptionKeyError("the keyring has no passphrase salt",
                                     hint="create it with `afluente keys init`")
        return passphrase_kek(spec, salt, n, other)
    if spec.source == "env":
        return env_kek(spec, other)
    if spec.plugin is None:
        raise EncryptionKeyError("key source kms needs `plugin: module:Class`",
                                 hint="name the plug-in in governance.encryption.key")
    return plugin_kek(spec)
