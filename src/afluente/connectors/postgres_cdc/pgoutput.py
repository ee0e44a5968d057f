"""PostgreSQL's `pgoutput` logical-decoding messages (protocol version 1) as Python values.

The server's own output plugin (the one built-in publications use) writes binary messages:
a transaction is `B`egin, the `R`elation descriptions of the tables it touches, its
`I`nsert/`U`pdate/`D`elete/`T`runcate changes, then `C`ommit. Column values come as their
text form (what `COPY ... TO STDOUT` writes too), so one converter types both the snapshot
and the changes. This module only decodes bytes; it never talks to a server.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Literal

PG_EPOCH = datetime(2000, 1, 1, tzinfo=UTC)
UNCHANGED = object()  # a TOASTed value the update did not touch (not sent again)

Op = Literal["insert", "update", "delete", "truncate"]


class PgOutputError(ValueError):
    """A message this decoder does not understand (the text says which)."""


@dataclass(frozen=True)
class Column:
    name: str
    type_oid: int
    typmod: int
    key: bool


@dataclass(frozen=True)
class Relation:
    oid: int
    schema: str
    name: str
    columns: tuple[Column, ...]

    @property
    def qualified(self) -> str:
        return f"{self.schema}.{self.name}"


Values = tuple[object, ...]  # text, None (NULL) or UNCHANGED, per column


@dataclass(frozen=True)
class Change:
    op: Op
    relation: Relation
    new: Values | None = None  # inserts, updates
    old: Values | None = None  # deletes (key or whole row), updates (when the server sent it)
    old_is_key: bool = False  # `old` holds only the replica identity's columns


@dataclass
class Transaction:
    """One committed transaction's changes, in the order they happened."""

    xid: int
    commit_lsn: int
    commit_time: datetime
    end_lsn: int = 0  # past the commit record: where the slot is confirmed to
    changes: list[Change] = field(default_factory=list)


def lsn_text(lsn: int) -> str:
    """An LSN as PostgreSQL writes it (`16/B374D848`)."""
    return f"{lsn >> 32:X}/{lsn & 0xFFFFFFFF:X}"


def lsn_number(text: str) -> int:
    high, _, low = text.partition("/")
    return (int(high, 16) << 32) | int(low, 16)


class _Reader:
    def __init__(self, data: bytes) -> None:
        self.data, self.at = data, 0

    def take(self, fmt: str) -> int:
        (value,) = struct.unpack_from(fmt, self.data, self.at)
        self.at += struct.calcsize(fmt)
        return int(value)

    def string(self) -> str:
        end = self.data.index(b"\0", self.at)
        text = self.data[self.at:end].decode("utf-8")
        self.at = end + 1
        return text

    def raw(self, size: int) -> bytes:
        chunk = self.data[self.at:self.at + size]
        self.at += size
        return chunk

    def byte(self) -> str:
        return chr(self.take("!B"))


def _timestamp(micros: int) -> datetime:
    return PG_EPOCH + timedelta(microseconds=micros)


def _tuple(reader: _Reader) -> Values:
    values: list[object] = []
    for _ in range(reader.take("!h")):
        kind = reader.byte()
        if kind == "n":
            values.append(None)
        elif kind == "u":
            values.append(UNCHANGED)
        elif kind == "t":
            values.append(reader.raw(reader.take("!i")).decode("utf-8"))
        else:
            raise PgOutputError(f"tuple value of kind {kind!r} (binary mode is not used)")
    return tuple(values)


def _relation(reader: _Reader) -> Relation:
    oid, schema, name = reader.take("!I"), reader.string(), reader.string()
    reader.take("!B")  # replica identity setting
    columns = []
    for _ in range(reader.take("!h")):
        flags, column = reader.take("!B"), reader.string()
        columns.append(Column(column, reader.take("!I"), reader.take("!i"), bool(flags & 1)))
    return Relation(oid, schema, name, tuple(columns))


class Decoder:
    """Folds a slot's messages into committed transactions (relations remembered by OID)."""

    def __init__(self) -> None:
        self.relations: dict[int, Relation] = {}
        self.current: Transaction | None = None

    def transactions(self, messages: Iterable[bytes]) -> Iterator[Transaction]:
        for message in messages:
            done = self.feed(message)
            if done is not None:
                yield done

    def feed(self, message: bytes) -> Transaction | None:
        reader = _Reader(message)
        kind = reader.byte()
        if kind == "B":
            commit_lsn, micros, xid = reader.take("!Q"), reader.take("!q"), reader.take("!I")
            self.current = Transaction(xid, commit_lsn, _timestamp(micros))
        elif kind == "C":
            reader.take("!B")
            reader.take("!Q")
            done, self.current = self._open(kind), None
            done.end_lsn = reader.take("!Q")
            return done
        elif kind == "R":
            relation = _relation(reader)
            self.relations[relation.oid] = relation
        elif kind in "IUD":
            self._open(kind).changes.append(self._row_change(kind, reader))
        elif kind == "T":
            count = reader.take("!i")
            reader.take("!B")  # cascade / restart identity
            for _ in range(count):
                relation = self._known(reader.take("!I"))
                self._open(kind).changes.append(Change("truncate", relation))
        elif kind not in "OYM":  # origin, type and message carry nothing bronze keeps
            raise PgOutputError(f"unknown pgoutput message {kind!r}")
        return None

    def _open(self, kind: str) -> Transaction:
        if self.current is None:
            raise PgOutputError(f"pgoutput message {kind!r} outside a transaction")
        return self.current

    def _known(self, oid: int) -> Relation:
        if oid not in self.relations:
            raise PgOutputError(f"a change of relation {oid} before its description")
        return self.relations[oid]

    def _row_change(self, kind: str, reader: _Reader) -> Change:
        relation = self._known(reader.take("!I"))
        marker = reader.byte()
        if kind == "I":
            return Change("insert", relation, new=_tuple(reader))
        if kind == "D":
            return Change("delete", relation, old=_tuple(reader), old_is_key=marker == "K")
        old = None
        if marker in "KO":
            old, old_is_key, marker = _tuple(reader), marker == "K", reader.byte()
        else:
            old_is_key = False
        if marker != "N":
            raise PgOutputError(f"update message without its new row (found {marker!r})")
        return Change("update", relation, new=_tuple(reader), old=old, old_is_key=old_is_key)
