"""Errors of publishing tables to a sink (a data mart outside the lakehouse)."""

from __future__ import annotations

from afluente.errors import AfluenteError


class SinkError(AfluenteError):
    """A table could not be published; the sink's previously published data is unchanged."""


class TransientSinkError(SinkError):
    """Publishing failed in a way worth retrying (connection lost, server restarting)."""

    transient = True
