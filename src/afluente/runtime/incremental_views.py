"""How readers see a stored table: apply_changes tables through their visible rows only.

An apply_changes table keeps bookkeeping rows and `__cdc_*` columns (docs/kinds.md). Every
reader — downstream models, `afluente query` — attaches it as `<layer>.<table>__cdc_storage`
and sees `<layer>.<table>` as the view of its visible rows, so no query can count a hidden
event as a customer.
"""

from __future__ import annotations

import pyarrow as pa
import pyarrow.dataset as pads

from afluente.engines import Engine
from afluente.model import Node
from afluente.model.refs import TableRef
from afluente.transform import visible_rows_sql


def attach_stored(engine: Engine, node: Node, dataset: pads.Dataset | pa.Table) -> None:
    """Attach the stored data of `node`'s table as its readers must see it."""
    if node.table_kind.visible_column is None:
        engine.attach_table(node.ref, dataset)
        return
    storage = TableRef(node.ref.layer, f"{node.ref.name}__cdc_storage")
    engine.attach_table(storage, dataset)
    quoted = f'"{storage.layer}"."{storage.name}"'
    engine.attach_view(
        node.ref, visible_rows_sql(quoted, node.config.scd_type or 1), node.location
    )
