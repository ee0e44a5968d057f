"""Avro values through a Confluent-compatible schema registry.

A value written by the registry's serializers starts with a zero byte and the 4-byte id of
its writer schema. The schema of each id is fetched once per micro-batch (`GET
/schemas/ids/{id}`). Without a declared `avro_schema`, a value decodes with its own writer
schema, so the fields a newer schema adds become new bronze columns under the
source's `schema_evolution` policy; with one, each writer schema is resolved to it (Avro
schema resolution: fields it lacks are left out, fields the writer lacks take its defaults).

An id the registry does not know makes that value undecodable (its message is rescued, with
its partition and offset); a registry that cannot be reached or refuses the credentials
stops the micro-batch with an error naming its URL (bronze unchanged).
"""

from __future__ import annotations

import io
import json
import struct
from typing import Any

import httpx

from afluente.connectors.kafka.values import CONFLUENT_MAGIC, Undecodable, plain_record
from afluente.errors import ConnectorError, Location, TransientConnectorError


class RegistryDecoder:
    """Decode Confluent-framed Avro values with the writer schema of their id."""

    def __init__(self, name: str, url: str, auth: httpx.Auth | None, timeout: float,
                 reader: Any | None, location: Location) -> None:
        self.name = name
        self.url = url.rstrip("/")
        self.reader = reader
        self.location = location
        self.auth = auth
        self.timeout = timeout
        self.writers: dict[int, Any] = {}  # schema id -> parsed writer schema
        self.unknown: dict[int, str] = {}  # ids the registry said it does not have

    def __call__(self, raw: bytes) -> dict[str, Any]:
        import fastavro

        if len(raw) < 5 or raw[0] != CONFLUENT_MAGIC:
            raise Undecodable("value has no Confluent Avro header (a zero byte and a schema "
                              "id), so the schema registry cannot say its schema")
        (schema_id,) = struct.unpack(">I", raw[1:5])
        writer = self.writer(schema_id)
        buffer = io.BytesIO(raw[5:])
        try:
            record = fastavro.schemaless_reader(buffer, writer, self.reader)
        except Exception as exc:  # fastavro raises many types on garbled input
            raise Undecodable(f"value does not decode with schema id {schema_id} of the "
                              f"registry ({type(exc).__name__}: {exc})") from None
        if buffer.tell() != len(raw) - 5:
            raise Undecodable(f"value does not decode with schema id {schema_id} of the "
                              f"registry ({len(raw) - 5 - buffer.tell()} bytes left over)")
        return plain_record(record, "the registry's schema")

    def writer(self, schema_id: int) -> Any:
        """The parsed schema of `schema_id`, fetched once."""
        if schema_id in self.writers:
            return self.writers[schema_id]
        if schema_id in self.unknown:
            raise Undecodable(self.unknown[schema_id])
        import fastavro

        body = self._get(f"/schemas/ids/{schema_id}", schema_id)
        try:
            parsed = fastavro.parse_schema(json.loads(body["schema"]))
        except (KeyError, TypeError, ValueError) as exc:
            reason = f"schema id {schema_id} of the registry at {self.url} is not an Avro schema"
            self.unknown[schema_id] = f"{reason} ({exc})"
            raise Undecodable(self.unknown[schema_id]) from None
        self.writers[schema_id] = parsed
        return parsed

    def _get(self, path: str, schema_id: int) -> dict[str, Any]:
        where = f"{self.url}{path}"
        try:
            response = httpx.get(where, auth=self.auth, timeout=self.timeout)
        except httpx.HTTPError as exc:
            raise TransientConnectorError(
                f"source `{self.name}`: cannot reach the schema registry at {self.url} "
                f"({type(exc).__name__}: {exc})", location=self.location,
                hint="check `schema_registry.url` and that the registry runs; the stream "
                "resumes from bronze's offsets") from exc
        if response.status_code == 404:
            self.unknown[schema_id] = (f"schema id {schema_id} is not in the schema registry "
                                       f"at {self.url}")
            raise Undecodable(self.unknown[schema_id])
        if response.status_code in (401, 403):
            raise ConnectorError(
                f"source `{self.name}`: the schema registry at {self.url} refused the "
                f"credentials (HTTP {response.status_code} for {path})", location=self.location,
                hint="check `schema_registry.auth` (username and password, or token)")
        if response.status_code != 200:
            raise TransientConnectorError(
                f"source `{self.name}`: the schema registry at {self.url} answered HTTP "
                f"{response.status_code} for {path}: {response.text[:200]}",
                location=self.location, hint="see the registry's log")
        body: dict[str, Any] = response.json()
        return body
