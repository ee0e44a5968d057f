"""The keys of a `type: kafka` source: where the broker is, which topics, how values decode,
how much one micro-batch may take, and the client options passed through (TLS, SASL)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from afluente.config import SourceBase
from afluente.config.sizes import ByteSize


class RegistryAuth(BaseModel):
    """HTTP basic credentials (`username`, `password`) or a bearer `token`."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    username: str | None = None
    password: str | None = None
    token: str | None = None

    @model_validator(mode="after")
    def _one_kind(self) -> RegistryAuth:
        basic = self.username is not None or self.password is not None
        if basic == (self.token is not None) or (basic and None in (self.username,
                                                                    self.password)):
            raise ValueError("give `username` and `password`, or `token`")
        return self


class SchemaRegistry(BaseModel):
    """A Confluent-compatible schema registry: where, how to log in, how long to wait."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    url: str
    auth: RegistryAuth | None = None
    timeout: float = Field(default=10.0, gt=0)

    def httpx_auth(self) -> Any:
        import httpx

        if self.auth is None:
            return None
        if self.auth.token is not None:
            token = self.auth.token

            def bearer(request: httpx.Request) -> httpx.Request:
                request.headers["Authorization"] = f"Bearer {token}"
                return request

            return bearer
        assert self.auth.username is not None and self.auth.password is not None
        return httpx.BasicAuth(self.auth.username, self.auth.password)


class KafkaSource(SourceBase):
    """Messages of one or more topics (or every topic matching `pattern`) into bronze.

    `options` go to the Kafka client unchanged (`security.protocol`, `ssl.ca.location`,
    `sasl.mechanism`, `sasl.username`...); put secrets there as `${ENV_VAR}`.
    `format: avro` decodes each value with the declared `avro_schema` (`avro_framing:
    confluent` strips the registry's 5-byte header), or with its writer schema from a
    `schema_registry` (resolved to `avro_schema` when one is declared).
    `starting_offsets`: where a partition that bronze has never seen starts (`earliest`).
    `max_records`: at most this many messages per micro-batch (back-pressure);
    `max_bytes`: at most this many bytes of keys and values (`64 MiB`; a message larger
    than that alone is a micro-batch of its own). A micro-batch ends when every partition
    is read to its end, at `max_records` or `max_bytes`, or
    `poll_timeout` seconds after the broker first answered (partitions that keep
    trickling); a broker that does not answer ends it after `connect_timeout`.
    `group_id`: the consumer group whose committed offsets show the lag; afluente never
    resumes from them (the offsets it resumes from are in the bronze table's commits).
    """

    type: Literal["kafka"] = "kafka"
    bootstrap_servers: str
    topics: tuple[str, ...] = ()
    pattern: str | None = None
    format: Literal["json", "text", "avro"] = "json"
    avro_schema: str | dict[str, Any] | None = None  # an .avsc path, or the schema itself
    avro_framing: Literal["confluent", "none"] = "confluent"
    schema_registry: SchemaRegistry | None = None
    # `latest` would need each new partition's end offset recorded before its first
    # message (not done yet: messages between two micro-batches could be skipped)
    starting_offsets: Literal["earliest"] = "earliest"
    max_records: int = Field(default=10_000, ge=1)
    max_bytes: ByteSize | None = None
    poll_timeout: float = Field(default=1.0, gt=0)
    connect_timeout: float = Field(default=10.0, gt=0)
    group_id: str | None = None
    options: dict[str, str] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _one_selector(self) -> KafkaSource:
        if bool(self.topics) == (self.pattern is not None):
            raise ValueError("give exactly one of `topics` (a list) and `pattern` (a regex)")
        registry = self.schema_registry is not None
        if self.format != "avro" and (registry or self.avro_schema is not None):
            raise ValueError("`avro_schema` and `schema_registry` need `format: avro`")
        if self.format == "avro" and not registry and self.avro_schema is None:
            raise ValueError("`format: avro` needs `avro_schema` (an .avsc path or the schema), "
                             "or a `schema_registry`")
        if registry and self.avro_framing != "confluent":
            raise ValueError("`schema_registry` reads the schema id of the Confluent framing: "
                             "leave out `avro_framing: none`")
        return self
