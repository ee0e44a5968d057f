"""Sinks: publish gold tables outside the lakehouse (a PostgreSQL data mart for BI tools).

A sink is declared under `sinks:` in `afluente.yml` with a `type:`; the registry maps the
type to a sink class whose config model validates its keys with file:line errors, like
connectors do for sources. Heavy drivers (psycopg) load only when a sink is opened.
"""

from afluente.sinks.config import PublishMode, SinkBase, TableOptions
from afluente.sinks.errors import SinkError, TransientSinkError
from afluente.sinks.protocol import PublishOutcome, PublishStatus, Sink, SinkTable, TableData
from afluente.sinks.registry import (
    sink_config,
    sink_for,
    sink_names,
    sink_tables,
    sink_types,
    validate_sinks,
)

__all__ = [
    "PublishMode",
    "PublishOutcome",
    "PublishStatus",
    "Sink",
    "SinkBase",
    "SinkError",
    "SinkTable",
    "TableData",
    "TableOptions",
    "TransientSinkError",
    "sink_config",
    "sink_for",
    "sink_names",
    "sink_tables",
    "sink_types",
    "validate_sinks",
]
