"""Build the machine-learning kinds (docs/ml.md): `train` and `score` tables.

The runtime reads the inputs from the run's engine and commits the tables; the work with
MLflow and the model itself is `afluente.ml`'s. A `train` table holds one row per registered
version of its model (the registry's history, rewritten at each training); a `score` table
the predictions of one registered version, by key: a build scores only the keys it lacks,
unless the version, the definition or the run (`--full-refresh`) asks for all of them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pyarrow as pa

from afluente.config import Project
from afluente.engines import Engine
from afluente.model import Node, TableRef
from afluente.observability.pillars import PREDICTION_DRIFT
from afluente.storage import CommitInfo, Warehouse, WriteResult

# the key of a score table's commit inputs that records the model version it scored with
MODEL_INPUT = "mlflow:{}"
TRAIN_SCHEMA = pa.schema([
    ("version", pa.int64()), ("mlflow_run_id", pa.string()), ("run_id", pa.string()),
    ("trained_at", pa.timestamp("us", tz="UTC")), ("metrics", pa.string()),
    ("inputs", pa.string()), ("fingerprint", pa.string()), ("promoted", pa.bool_()),
    ("gate", pa.string()), ("champion", pa.bool_()),
])


@dataclass(frozen=True)
class MLBuild:
    """One build of a `train` or `score` node in a run."""

    project: Project
    engine: Engine
    warehouse: Warehouse
    node: Node
    run_id: str
    started_at: datetime
    fingerprint: str
    read: Mapping[str, int]  # each stored input and the version read
    input_prints: Mapping[str, str]  # each input's fingerprint
    last: CommitInfo | None
    full_refresh: bool
    emit: Callable[[str, dict[str, object]], None]  # an event of this model

    def run(self) -> WriteResult | None:
        from afluente.ml.errors import MLError
        from afluente.ml.tracking import Tracking

        node = self.node
        if node.language != "python" or node.function is None:
            raise MLError(f"kind `{node.kind}` is a Python model", location=node.location,
                          table=node.name, hint=f"declare it with @afluente.{node.kind}(...)")
        if node.config.expectations:
            raise MLError(f"`expectations` are not checked on `{node.kind}` tables",
                          location=node.location, table=node.name,
                          hint="gate a model with `promote_if`; check the rows it scores in "
                               "the table it reads")
        tracking = Tracking.for_project(self.project.root, self.project.config.ml.tracking_uri)
        return self._train(tracking) if node.kind == "train" else self._score(tracking)

    def _frames(self, refs: list[TableRef]) -> list[Any]:
        return [self.engine.query(f'SELECT * FROM "{r.layer}"."{r.name}"').to_pandas()
                for r in refs]

    def _train(self, tracking: Any) -> WriteResult:
        from afluente.ml.registry import history
        from afluente.ml.tracking import session
        from afluente.ml.training import TrainRequest, train

        node, config = self.node, self.node.config
        assert node.function is not None and config.label is not None
        request = TrainRequest(
            name=node.name, function=node.function, frames=self._frames(list(node.upstream)),
            label=config.label, location=node.location, inputs=dict(self.read),
            input_prints=dict(self.input_prints), fingerprint=self.fingerprint,
            run_id=self.run_id, keywords=node.keywords, metrics=config.metrics or (),
            promote_if={str(k): v for k, v in (config.promote_if or {}).items()},
            holdout=config.holdout or 0.25, seed=42 if config.seed is None else config.seed)
        trained = train(request, tracking)
        self.emit("model_trained", {"version": trained.version, "metrics": trained.metrics,
                                    "promoted": trained.promoted, "gate": trained.gate,
                                    "mlflow_run_id": trained.mlflow_run_id})
        with session(tracking) as client:
            rows = history(client, node.name)
        table = pa.Table.from_pylist(rows, schema=TRAIN_SCHEMA)
        return self.warehouse.write(node.ref, table.to_reader(), run_id=self.run_id,
                                    fingerprint=self.fingerprint, inputs=dict(self.read))

    def _score(self, tracking: Any) -> WriteResult | None:
        from afluente.ml.registry import resolve
        from afluente.ml.tracking import session

        node, config = self.node, self.node.config
        assert config.model is not None
        with session(tracking) as client:
            model = resolve(client, config.model, config.version, config.alias, node.location,
                            node.name)
        rows = self._rows_to_score()
        key = MODEL_INPUT.format(config.model)
        inputs: dict[str, object] = {**self.read, key: model.version}
        since = self._scored_keys(model.version, key)
        if since is not None:
            rows = _unscored(rows, since, list(config.unique_key or ()))
            if rows.empty:
                return None
        table = self._predict(tracking, model, rows)
        if since is None:
            return self.warehouse.write(node.ref, table.to_reader(), run_id=self.run_id,
                                        fingerprint=self.fingerprint, inputs=inputs)
        return self.warehouse.append(node.ref, table.to_reader(), run_id=self.run_id,
                                     fingerprint=self.fingerprint, inputs=inputs, progress={})

    def _rows_to_score(self) -> Any:
        from afluente.ml.errors import MLError

        node = self.node
        assert node.function is not None
        refs = [u for u in node.upstream if str(u) != node.config.model]
        try:
            rows = node.function(*self._frames(refs))
        except Exception as exc:
            raise MLError(f"the scoring function raised {type(exc).__name__}: {exc}",
                          location=node.location, table=node.name,
                          hint="fix the function; the table keeps its previous version"
                          ) from exc
        rows = rows.to_pandas() if hasattr(rows, "to_pandas") else rows
        keys = list(node.config.unique_key or ())
        missing = [k for k in keys if k not in getattr(rows, "columns", ())]
        if missing:
            raise MLError(f"the scoring function's rows lack the key column(s) "
                          f"{', '.join(missing)} (`unique_key`)", location=node.location,
                          table=node.name, hint="return a pandas frame with the key columns "
                                                "and the model's features")
        return rows

    def _scored_keys(self, version: int, key: str) -> Any | None:
        """The keys scored before by `version` under this definition (None: score all)."""
        last = self.last
        if (self.full_refresh or last is None or last.fingerprint != self.fingerprint
                or last.inputs.get(key) != version or not self.warehouse.exists(self.node.ref)):
            return None
        keys = list(self.node.config.unique_key or ())
        return self.warehouse.dataset(self.node.ref).to_table(columns=keys).to_pandas()

    def _predict(self, tracking: Any, model: Any, rows: Any) -> pa.Table:
        from afluente.ml import drift
        from afluente.ml.scoring import load, score

        node = self.node
        columns = score(load(tracking, model), model, rows, node.location, node.name)
        keys = list(node.config.unique_key or ())
        out = rows[keys].reset_index(drop=True)
        for name, values in columns.items():
            out[name] = values
        out["model_version"] = model.version
        out["scored_at"] = self.started_at
        if model.reference is not None:
            given = columns.get("score", columns["prediction"])
            psi = drift.psi(drift.Reference.from_dict(model.reference), given)
            self.emit(PREDICTION_DRIFT, {
                "psi": round(psi, 4), "drifting": drift.drifting(psi, len(out)), "rows": len(out),
                "model": model.name, "version": model.version})
        return pa.Table.from_pandas(out, preserve_index=False)


def _unscored(rows: Any, scored: Any, keys: list[str]) -> Any:
    """`rows` whose key is not among the `scored` keys."""
    if scored.empty:
        return rows
    marked = rows.merge(scored.drop_duplicates(), on=keys, how="left", indicator="__scored")
    return marked[marked["__scored"] == "left_only"].drop(columns="__scored")
