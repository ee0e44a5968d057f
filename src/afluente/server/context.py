"""What every request of one server shares: the project, its state store, the token checks
and sessions, the query rate limit and the runs started through the API."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from fastapi import Depends, Request

from afluente.config import Project, load_project
from afluente.server.auth import Authenticator, Caller
from afluente.server.rate_limit import RateLimit
from afluente.server.store import ServerStore

if TYPE_CHECKING:
    from afluente.governance.reader import GovernedReader
    from afluente.lineage import ProjectLineage
    from afluente.model import Graph
    from afluente.server.run_jobs import Jobs

T = TypeVar("T")
log = logging.getLogger("afluente.server")


@dataclass
class ServerContext:
    project: Project
    store: ServerStore
    auth: Authenticator
    query_limit: RateLimit
    jobs: Jobs
    ttl_s: float = 10.0
    _kept: dict[str, tuple[Any, float]] = field(default_factory=dict)
    _versioned: dict[str, tuple[str, Any]] = field(default_factory=dict)
    _renewing: set[str] = field(default_factory=set)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @classmethod
    def open(cls, project_dir: Path, environment: str | None = None,
             query_rate: int = 60) -> ServerContext:
        from afluente.server.run_jobs import Jobs

        project = load_project(project_dir, environment)
        store = ServerStore.open(project.state_url)
        return cls(project, store, Authenticator(store), RateLimit(query_rate),
                   Jobs(project, environment))

    def close(self) -> None:
        self.jobs.stop_all()
        self.store.close()

    def graph(self) -> Graph:
        """The models as their files say (a change shows within `ttl_s` and one load of the
        models, an error in a file on the request after that)."""
        from afluente.model import load_graph

        return self.kept_refreshing("graph", lambda: load_graph(self.project))

    def last_model_status(self) -> dict[str, dict[str, Any]]:
        return _latest_status(self.store)

    def freshness(self) -> dict[str, dict[str, Any]]:
        """Each table's freshness pillar and lag (it opens every table's Delta log)."""
        from afluente.observability.health import project_health

        return self.kept_refreshing("freshness", lambda: {
            t.table: {"status": t.pillars.get("freshness"), "lag_s": t.freshness_lag_s}
            for t in project_health(self.project)})

    def lineage(self) -> ProjectLineage:
        """The project's column lineage (parsing every model's SQL)."""
        from afluente.catalog import load_lineage
        from afluente.storage import Warehouse

        return self.kept_while("lineage", self.models_version(), lambda: load_lineage(
            self.graph(), Warehouse(self.project.warehouse_uri)))

    def models_version(self) -> str:
        """What the lineage and the personal columns depend on: the models (their
        fingerprints) and the tables' columns (which change only with a run)."""
        graph = self.graph()
        newest = self.store.list_runs(1)
        return repr((sorted((str(r), f) for r, f in graph.fingerprints.items()),
                     newest[0].run_id if newest else None))

    def kept_while(self, key: str, version: str, compute: Callable[[], T]) -> T:
        """`compute()`, kept while `version` stays the same."""
        with self._lock:
            found = self._versioned.get(key)
        if found is not None and found[0] == version:
            return found[1]
        value = compute()
        with self._lock:
            self._versioned[key] = (version, value)
        return value

    def reader(self, caller: Caller) -> GovernedReader:
        """The governed reader for `caller` (grants change rarely, and finding a project's
        personal columns takes its lineage)."""
        from afluente.governance.reader import GovernedReader, personal_columns

        version = self.models_version()
        return self.kept(f"reader|{caller.name}|{caller.identity.token_role}",
                         lambda: GovernedReader.for_identity(
                             self.project, caller.identity,
                             lambda p: self.kept_while("pii", version,
                                                       lambda: personal_columns(p))))

    def kept_refreshing(self, key: str, compute: Callable[[], T]) -> T:
        """`compute()`, kept `ttl_s` seconds; once that has passed, the kept value is still
        answered while one background thread computes the next (only the first call waits).
        For what costs seconds on a large project (its models, every table's freshness): no
        request pays it after the first, and the value is at most one computation late.
        When the renewal fails (a model file broken meanwhile), the next request computes it
        and gets the error."""
        now = time.monotonic()
        with self._lock:
            found = self._kept.get(key)
            renew = found is not None and found[1] <= now and key not in self._renewing
            if renew:
                self._renewing.add(key)
        if found is None:
            return self.kept(key, compute)
        if renew:
            threading.Thread(target=self._renew, args=(key, compute), daemon=True,
                             name=f"afluente-renew-{key}").start()
        return found[0]

    def _renew(self, key: str, compute: Callable[[], Any]) -> None:
        try:
            value = compute()
            with self._lock:
                self._kept[key] = (value, time.monotonic() + self.ttl_s)
        except Exception:  # the next request computes it again, and meets the error itself
            log.warning("renewing %s failed; the next request computes it", key, exc_info=True)
            with self._lock:
                self._kept.pop(key, None)
        finally:
            with self._lock:
                self._renewing.discard(key)

    def kept(self, key: str, compute: Callable[[], T]) -> T:
        """`compute()`, kept `ttl_s` seconds: what is costly to find and changes only with a
        run or a grant is found again at most that often."""
        now = time.monotonic()
        with self._lock:
            found = self._kept.get(key)
        if found is not None and found[1] > now:
            return found[0]
        value = compute()
        with self._lock:
            self._kept[key] = (value, now + self.ttl_s)
        return value


def _latest_status(store: ServerStore, runs: int = 50) -> dict[str, dict[str, Any]]:
    """Each model's newest model run among the last `runs` runs."""
    found: dict[str, dict[str, Any]] = {}
    for run in store.list_runs(runs):  # newest first
        for model in run.models:
            found.setdefault(model.model, {
                "status": model.status, "run_id": run.run_id,
                "finished_at": model.finished_at.isoformat() if model.finished_at else None,
                "error": model.error})
    return found


def server_context(request: Request) -> ServerContext:
    found = request.app.state.afluente
    assert isinstance(found, ServerContext)
    return found


def authenticated(request: Request,
                  context: ServerContext = Depends(server_context)) -> Caller:
    """The request's caller; every route but /health and /openapi.json depends on it."""
    return context.auth.caller_of(request)
