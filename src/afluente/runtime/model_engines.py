"""Which engine builds each model of a run, and new engines of each, made only when a model
needs one: a run whose selected models are all on DuckDB never starts Spark, even when
`engines:` declares a Spark engine for other models.

Each model reads its inputs from their Delta tables on its own engine, so engines never
hand data to each other; they share only the versions committed during the run."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from afluente.config import Project
from afluente.engines.registry import create_engine, engine_settings
from afluente.model import Node
from afluente.runtime.encryption import declared
from afluente.runtime.engine_fit import model_engine

if TYPE_CHECKING:
    from afluente.engines import Engine, EngineSettings
    from afluente.engines.decrypt import ColumnDecryptor


@dataclass
class ModelEngines:
    """The engines of one run, by the name `plan` shows (`engines:` name or engine type)."""

    project: Project
    #: opens encrypted columns (`governance.encryption`); None: none are
    decryptor: ColumnDecryptor | None = None
    _settings: dict[str, EngineSettings] = field(default_factory=dict)

    def name_of(self, node: Node) -> str:
        return model_engine(self.project, node)

    def create(self, name: str) -> Engine:
        """A new engine `name` with the project's `vars` (validated once per run)."""
        if name not in self._settings:
            self._settings[name] = engine_settings(self.project, name)
        engine = create_engine(self._settings[name], self.project.config.vars)
        if self.decryptor is None and declared(self.project):  # `check`, `validate`
            from afluente.governance.column_cipher import open_cipher

            self.decryptor = open_cipher(self.project)
        if self.decryptor is not None:
            engine.use_decryptor(self.decryptor)
        return engine
