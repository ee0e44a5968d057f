"""What a sensor looks at: new files under a files source, or a new version of a table.

Each check compares what is there now with the sensor's cursor (what it last acted on) and
returns the cursor to save once the run it triggers succeeds. The cursor of `new_files` is
every file's signature (size and modification time), so a file rewritten in place counts as
new again — the files connector re-ingests it too (`changed_files: replace`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from afluente.config import Project
from afluente.config.orchestration import SensorSpec
from afluente.connectors import source_config
from afluente.connectors.files import FilesSource
from afluente.connectors.files.listing import list_files
from afluente.model import TableRef
from afluente.storage import Warehouse

_FILES_NAMED_IN_TRIGGER = 20


@dataclass(frozen=True)
class SensorCheck:
    """The outcome of looking once: whether to fire, why, and the cursor after the run."""

    fire: bool
    reason: str
    cursor: dict[str, Any]
    trigger: dict[str, Any] = field(default_factory=dict)


def check_sensor(project: Project, spec: SensorSpec, cursor: dict[str, Any]) -> SensorCheck:
    if spec.new_files is not None:
        return _new_files(project, spec.new_files, cursor)
    assert spec.new_version is not None
    return _new_version(project, spec.new_version, cursor)


def _new_files(project: Project, source: str, cursor: dict[str, Any]) -> SensorCheck:
    config = source_config(project, source)
    assert isinstance(config, FilesSource)  # `afluente validate` rejects other sources
    found = list_files(config.path, project.root, config.storage_options, source,
                       project.source_location(source))
    seen: dict[str, str] = cursor.get("files", {})
    new = [f.name for f in found if seen.get(f.name) != f.signature]
    after = {"files": {f.name: f.signature for f in found}}
    if not new:
        return SensorCheck(False, f"no new files in `{source}` ({len(found)} seen)", after)
    reason = f"{len(new)} new file{'s' if len(new) != 1 else ''} in `{source}`"
    trigger = {"source": source, "files": new[:_FILES_NAMED_IN_TRIGGER], "new_files": len(new)}
    return SensorCheck(True, reason, after, trigger)


def _new_version(project: Project, table: str, cursor: dict[str, Any]) -> SensorCheck:
    ref = TableRef.parse(table)
    version = Warehouse(project.warehouse_uri).version(ref)
    last = cursor.get("version")
    after = {"version": version}
    if version is None or version == last:
        state = "not built yet" if version is None else f"still at version {version}"
        return SensorCheck(False, f"`{ref}` {state}", after)
    reason = f"`{ref}` has a new version {version} (was {last})"
    return SensorCheck(True, reason, after, {"table": str(ref), "version": version})
