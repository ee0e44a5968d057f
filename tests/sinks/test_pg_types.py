"""The Arrow → PostgreSQL type mapping, and the CSV text COPY reads."""

from __future__ import annotations

import pyarrow as pa
import pytest

from afluente.sinks import SinkError
from afluente.sinks.pg_types import csv_bytes, pg_type


@pytest.mark.parametrize(("arrow", "expected"), [
    (pa.int8(), "smallint"), (pa.uint16(), "integer"), (pa.uint32(), "bigint"),
    (pa.uint64(), "numeric(20,0)"), (pa.float32(), "real"), (pa.float64(), "double precision"),
    (pa.decimal128(38, 9), "numeric(38,9)"), (pa.large_string(), "text"),
    (pa.string_view(), "text"), (pa.time64("us"), "time without time zone"),
    (pa.timestamp("us", "America/Sao_Paulo"), "timestamp with time zone"),
    (pa.large_binary(), "bytea"), (pa.list_(pa.decimal128(5, 2)), "numeric(5,2)[]"),
    (pa.map_(pa.string(), pa.int32()), "jsonb"), (pa.list_(pa.struct([("a", pa.int8())])), "jsonb"),
    (pa.dictionary(pa.int8(), pa.string()), "text"),
])
def test_pg_type(arrow: pa.DataType, expected: str) -> None:
    assert pg_type(arrow) == expected


def test_unmapped_type_names_the_column() -> None:
    with pytest.raises(SinkError, match="column `wait` has type duration"):
        pg_type(pa.duration("s"), "wait")


def test_csv_text_for_nested_binary_and_dictionary_values() -> None:
    batch = pa.record_batch({
        "tags": pa.array([["a", 'q"\\'], None]),
        "attrs": pa.array([[("k", 1)], None], pa.map_(pa.string(), pa.int64())),
        "raw": pa.array([b"\x01\xab", None]),
        "kind": pa.array(["x", "y"]).dictionary_encode(),
    })
    assert csv_bytes(batch).decode().splitlines() == [
        '"{""a"",""q\\""\\\\""}","{""k"": 1}","\\x01ab","x"',
        ',,,"y"',
    ]
