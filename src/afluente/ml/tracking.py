"""Where MLflow keeps runs and the registry, and one guarded session with it.

By default a project's runs go to a SQLite tracking store in `.afluente/mlflow.db` and their
artefacts to `.afluente/mlruns` (no server); `ml: {tracking_uri: ...}` in afluente.yml points
a team at a shared server. MLflow's fluent API keeps its tracking URI in globals, so every
use goes through :func:`session`, one at a time.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from afluente.ml.errors import MLError

if TYPE_CHECKING:
    from mlflow import MlflowClient

INSTALL = "pip install 'afluente[ml]'"
_LOCK = threading.RLock()


@dataclass(frozen=True)
class Tracking:
    """The tracking store (runs, metrics, the registry) and where new artefacts go."""

    uri: str
    artifacts: str | None = None  # None: the server decides

    @classmethod
    def for_project(cls, root: Path, uri: str | None = None) -> Tracking:
        """The project's store: `uri` (a server keeps its own artefacts; a local database's
        go to `.afluente/mlruns`), by default `.afluente/mlflow.db`."""
        state = (root / ".afluente").resolve()
        state.mkdir(parents=True, exist_ok=True)
        artifacts = (state / "mlruns").as_uri()
        if uri and uri.split(":", 1)[0] in ("http", "https", "databricks"):
            return cls(uri)
        return cls(uri or f"sqlite:///{state / 'mlflow.db'}", artifacts)


def mlflow_module() -> Any:
    """MLflow, imported (its telemetry off), or an error that says how to install it."""
    os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
    os.environ.setdefault("MLFLOW_LOGGING_LEVEL", "WARNING")
    try:
        import mlflow
    except ImportError as exc:
        raise MLError("`train` and `score` models need MLflow and scikit-learn",
                      hint=f"install the ml extra: {INSTALL}") from exc
    return mlflow


@contextmanager
def session(tracking: Tracking) -> Iterator[MlflowClient]:
    """MLflow pointed at `tracking`, for this thread alone until the block ends."""
    mlflow = mlflow_module()
    with _LOCK:
        mlflow.set_tracking_uri(tracking.uri)
        mlflow.set_registry_uri(tracking.uri)
        yield mlflow.MlflowClient(tracking.uri, tracking.uri)


def experiment_id(client: MlflowClient, tracking: Tracking, name: str) -> str:
    """The experiment of registered model `name` (created on first use)."""
    found = client.get_experiment_by_name(name)
    if found is not None:
        return str(found.experiment_id)
    return str(client.create_experiment(name, artifact_location=tracking.artifacts))
