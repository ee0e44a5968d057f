"""Column-level lineage: from source files, tables and endpoints through bronze to gold."""

from afluente.lineage.model import ColumnEdge, ColumnKey, DatasetInfo, EdgeKind, ModelLineage
from afluente.lineage.project import ColumnsOf, ProjectLineage, project_lineage, update_lineage
from afluente.lineage.sql_columns import QueryLineage, UnresolvedSql, query_lineage

__all__ = [
    "ColumnEdge", "ColumnKey", "ColumnsOf", "DatasetInfo", "EdgeKind", "ModelLineage",
    "ProjectLineage", "QueryLineage", "UnresolvedSql", "project_lineage", "query_lineage",
    "update_lineage",
]
