"""A Delta version on object storage (`s3://…`) read by Spark without the hadoop-aws jars.

Spark's own Parquet reader opens `s3a://` paths only through the hadoop-aws jars, which
cannot be downloaded everywhere and which afluente does not ship. Instead the executors
read the version's files through the Arrow filesystem storage opened the table with
(deltalake's object-store handler, holding the same endpoint and credentials), with
pyspark's Python data source API: one input partition per Parquet file, each read on an
executor as Arrow record batches in the dataset's schema (a column older files lack reads
as NULL; partition values, which Delta keeps in its log, are filled in by Arrow's scanner
from each fragment's partition expression).

The dataset travels to the executors pickled inside the data source's options; its
filesystem handler pickles with the storage options storage opened the table with
(`storage/arrow_dataset.py`: explicit, so an executor's own environment does not matter).
The option's name contains `secret`, so Spark redacts the value from plans and logs. The
executors must reach the object store's endpoint as the driver does.
"""

from __future__ import annotations

import base64
import pickle
from collections.abc import Iterator
from typing import Any

import pyarrow as pa
import pyarrow.dataset as pads
from pyspark.sql.datasource import DataSource, DataSourceReader, InputPartition

FORMAT = "afluente_delta_files"
_OPTION = "dataset_secret"  # "secret": Spark redacts the value in plans and logs


def remote_frame(session: Any, dataset: pads.FileSystemDataset) -> Any:
    """A DataFrame whose partitions are `dataset`'s files, read on the executors."""
    from pyspark.sql.pandas.types import from_arrow_schema

    _register(session)
    payload = base64.b64encode(pickle.dumps(dataset)).decode("ascii")
    schema = from_arrow_schema(dataset.schema, prefer_timestamp_ntz=True)
    return session.read.format(FORMAT).schema(schema).option(_OPTION, payload).load()


def _register(session: Any) -> None:
    registered = getattr(session, "_afluente_remote_files", False)
    if not registered:
        session.dataSource.register(DeltaFiles)
        session._afluente_remote_files = True


class DeltaFiles(DataSource):
    """The files of one Delta version, by the Arrow dataset built from its log."""

    @classmethod
    def name(cls) -> str:
        return FORMAT

    def reader(self, schema: Any) -> DataSourceReader:
        return _FilesReader(self.options[_OPTION])


class _File(InputPartition):
    def __init__(self, index: int) -> None:
        super().__init__(index)
        self.index = index


class _FilesReader(DataSourceReader):
    def __init__(self, payload: str) -> None:
        self.payload = payload

    def _dataset(self) -> pads.FileSystemDataset:
        dataset = pickle.loads(base64.b64decode(self.payload))
        assert isinstance(dataset, pads.FileSystemDataset)
        return dataset

    def partitions(self) -> list[InputPartition]:
        count = len(self._dataset().files)
        return [_File(i) for i in range(count)] or [_File(-1)]

    def read(self, partition: InputPartition) -> Iterator[pa.RecordBatch]:
        if not isinstance(partition, _File) or partition.index < 0:
            return
        dataset = self._dataset()
        fragment = list(dataset.get_fragments())[partition.index]
        one = pads.FileSystemDataset([fragment], dataset.schema, dataset.format,
                                     dataset.filesystem)
        yield from one.to_batches()
