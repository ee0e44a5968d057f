"""Storage: the Delta tables of the warehouse."""

from afluente.storage.commits import CommitInfo
from afluente.storage.schema_history import SchemaChange
from afluente.storage.staged import StagedFiles
from afluente.storage.warehouse import Warehouse, WriteResult

__all__ = ["CommitInfo", "SchemaChange", "StagedFiles", "Warehouse", "WriteResult"]
