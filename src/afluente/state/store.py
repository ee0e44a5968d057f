"""The state store: runs, model runs and the event log, in SQLite or PostgreSQL.

Every public call is one short transaction. Opening a store migrates it to the newest
schema (see :mod:`afluente.state.migrate`), so two processes may open the same store at
once. On SQLite the file runs in WAL mode with a busy timeout and writers take the lock up
front (see :mod:`afluente.state.connect`); concurrent runs queue briefly instead of failing.
"""

from __future__ import annotations

import difflib
import os
import socket
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, Literal

from sqlalchemy import Engine, Text, func, select, type_coerce
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import URL, Connection, RowMapping

from afluente.errors import StateError
from afluente.state import schema
from afluente.state.coltypes import JSONText, utc_now
from afluente.state.connect import WRITE_OPTION, create_state_engine, mask_url, parse_url
from afluente.state.migrate import upgrade
from afluente.state.records import (
    EVENT_LEVELS,
    FINAL_MODEL_STATUSES,
    FINAL_RUN_STATUSES,
    Event,
    ModelRunRecord,
    ModelStatus,
    RunRecord,
    RunStatus,
)
from afluente.state.rows import (
    check_choice,
    check_versions,
    event_record,
    execution_order,
    model_run_record,
    run_record,
)
from afluente.state.sqlite_file import prepare_sqlite_file, sqlite_file
from afluente.state.translate import translated

if TYPE_CHECKING:
    import pyarrow as pa

StateTable = Literal["runs", "model_runs", "events", "quality_results"]

_TABLES = {
    t.name: t
    for t in (schema.runs, schema.model_runs, schema.events, schema.quality_results)
}
_RECENT_IDS_SHOWN = 5
_IDS_SCANNED_FOR_SUGGESTIONS = 500


_IN_CHUNK = 500  # names per `IN (...)`: far below SQLite's and PostgreSQL's parameter limits


class StateStore:
    """Runs, model runs and events of one project. Build it with :meth:`open`."""

    def __init__(self, engine: Engine, url: URL) -> None:
        self._engine = engine
        self._writer = engine.execution_options(**{WRITE_OPTION: True})
        self._secret = url.password if isinstance(url.password, str) else None
        self.url = mask_url(url)
        self._closed = False

    @classmethod
    def open(cls, url: str) -> StateStore:
        """Connect to the store at `url` and migrate it to the newest schema.

        A SQLite file's folder is created if missing (``sqlite:///<project>/.afluente/
        state.db`` is the default); ``postgresql+psycopg://...`` (or plain ``postgresql://``)
        needs ``afluente[postgres]``.
        """
        masked = mask_url(url)
        with translated(masked, "open the store"):
            parsed = parse_url(url)
            path = sqlite_file(parsed)
            if path is not None:
                prepare_sqlite_file(parsed, path, masked)
            engine = create_state_engine(parsed)
            try:
                upgrade(engine)
            except BaseException:
                engine.dispose()
                raise
        return cls(engine, parsed)

    def close(self) -> None:
        """Release the store's connections; the store cannot be used afterwards."""
        self._closed = True
        self._engine.dispose()

    def __enter__(self) -> StateStore:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"StateStore({self.url!r})"

    # -- runs --------------------------------------------------------------------------------

    def start_run(
        self,
        run_id: str,
        project: str,
        selector: str | None,
        args: dict[str, Any],
        *,
        resume: bool = False,
    ) -> None:
        """Record a new run as ``running``, with this host and process id.

        With ``resume``, an existing run of that id (say, one that crashed) is reopened
        instead: the replay of a run id cannot write any table twice (Delta app transactions).
        """
        values = {
            "run_id": run_id,
            "project": project,
            "status": "running",
            "selector": selector,
            "args": args,
            "started_at": utc_now(),
            "host": socket.gethostname(),
            "pid": os.getpid(),
        }
        with self._write(f"start run {run_id!r}") as conn:
            if resume:
                reopen = {**values, "finished_at": None, "error": None}
                del reopen["run_id"]
                where = schema.runs.c.run_id == run_id
                if conn.execute(schema.runs.update().where(where).values(reopen)).rowcount:
                    return
            try:
                conn.execute(schema.runs.insert().values(values))
            except sa_exc.IntegrityError as error:
                raise StateError(
                    f"run {run_id!r} already exists in {self.url}",
                    run_id=run_id,
                    hint="every run needs a new, unique run id",
                ) from error

    def finish_run(self, run_id: str, status: RunStatus, error: str | None = None) -> None:
        """Mark a run finished (``success``, ``failed`` or ``partial``)."""
        check_choice("run status", status, FINAL_RUN_STATUSES)
        update = (
            schema.runs.update()
            .where(schema.runs.c.run_id == run_id)
            .values(status=status, finished_at=utc_now(), error=error)
        )
        with self._write(f"finish run {run_id!r}") as conn:
            if conn.execute(update).rowcount == 0:
                raise self._unknown_run(conn, run_id)

    # -- model runs --------------------------------------------------------------------------

    def start_model_run(self, run_id: str, model: str, fingerprint: str) -> None:
        """Mark `model` running in `run_id`; starting it again (a retry) restarts the clock."""
        values: dict[str, Any] = {
            "status": "running",
            "started_at": utc_now(),
            "finished_at": None,
            "duration_s": None,
            "rows_written": None,
            "versions_read": {},
            "version_written": None,
            "fingerprint": fingerprint,
            "error": None,
        }
        with self._write(f"start model {model!r} of run {run_id!r}") as conn:
            self._upsert_model_run(conn, run_id, model, values)

    def finish_model_run(
        self,
        run_id: str,
        model: str,
        status: ModelStatus,
        *,
        rows_written: int | None = None,
        versions_read: dict[str, int] | None = None,
        version_written: int | None = None,
        error: str | None = None,
        attempts: int | None = None,
    ) -> None:
        """Record a model's outcome; its duration runs from :meth:`start_model_run`.

        A model that never started (skipped, up to date) gets a row without start or duration.
        """
        check_choice("model status", status, FINAL_MODEL_STATUSES)
        finished_at = utc_now()
        values: dict[str, Any] = {
            "status": status,
            "finished_at": finished_at,
            "rows_written": rows_written,
            "versions_read": check_versions(versions_read or {}),
            "version_written": version_written,
            "error": error,
            "attempts": attempts,
        }
        table = schema.model_runs
        key = (table.c.run_id == run_id) & (table.c.model == model)
        with self._write(f"finish model {model!r} of run {run_id!r}") as conn:
            started_at = conn.execute(select(table.c.started_at).where(key)).scalar()
            if started_at is not None:
                values["duration_s"] = (finished_at - started_at).total_seconds()
            self._upsert_model_run(conn, run_id, model, values)

    def finish_model_runs(self, run_id: str, models: list[str], status: ModelStatus) -> None:
        """Record many models that never started in this run (up to date) with one outcome,
        in one transaction: a no-op run of a large project writes one batch, not a
        transaction per model. A model already recorded in the run (a resumed run) is
        updated as :meth:`finish_model_run` would."""
        check_choice("model status", status, FINAL_MODEL_STATUSES)
        if not models:
            return
        table = schema.model_runs
        finished_at = utc_now()
        values: dict[str, Any] = {"status": status, "finished_at": finished_at,
                                  "rows_written": None, "versions_read": {},
                                  "version_written": None, "error": None, "attempts": None}
        with self._write(f"record {len(models)} models of run {run_id!r}") as conn:
            present: dict[str, Any] = {}
            for start in range(0, len(models), _IN_CHUNK):
                chunk = models[start:start + _IN_CHUNK]
                present.update((row.model, row.started_at) for row in conn.execute(
                    select(table.c.model, table.c.started_at)
                    .where((table.c.run_id == run_id) & table.c.model.in_(chunk))))
            fresh = [{**values, "run_id": run_id, "model": m} for m in models if m not in present]
            if fresh:
                try:
                    conn.execute(table.insert(), fresh)
                except sa_exc.IntegrityError as error:
                    raise StateError(
                        f"cannot record {len(fresh)} models: run {run_id!r} was never started "
                        f"in {self.url}",
                        run_id=run_id,
                        hint="call start_run() before recording its models",
                    ) from error
            for model, started_at in present.items():
                again = dict(values)
                if started_at is not None:
                    again["duration_s"] = (finished_at - started_at).total_seconds()
                self._upsert_model_run(conn, run_id, model, again)

    def _upsert_model_run(
        self, conn: Connection, run_id: str, model: str, values: dict[str, Any]
    ) -> None:
        table = schema.model_runs
        key = (table.c.run_id == run_id) & (table.c.model == model)
        if conn.execute(table.update().where(key).values(values)).rowcount:
            return
        row = {"versions_read": {}, **values, "run_id": run_id, "model": model}
        try:
            conn.execute(table.insert().values(row))
        except sa_exc.IntegrityError as error:
            raise StateError(
                f"cannot record model {model!r}: run {run_id!r} was never started in {self.url}",
                table=model,
                run_id=run_id,
                hint="call start_run() before recording its models",
            ) from error

    # -- events ------------------------------------------------------------------------------

    def emit(self, event: Event) -> None:
        """Append `event` to the log; an event without a timestamp is stamped now (UTC)."""
        check_choice("event level", event.level, EVENT_LEVELS)
        values = {
            "run_id": event.run_id,
            "ts": event.ts or utc_now(),
            "type": event.type,
            "model": event.model,
            "level": event.level,
            "payload": event.payload,
        }
        with self._write(f"record event {event.type!r}") as conn:
            conn.execute(schema.events.insert().values(values))

    def events(self, run_id: str | None = None, limit: int | None = None) -> list[Event]:
        """Events oldest first, of one run or all; with `limit`, the most recent `limit`."""
        table = schema.events
        query = select(table)
        if run_id is not None:
            query = query.where(table.c.run_id == run_id)
        if limit is None:
            query = query.order_by(table.c.ts, table.c.id)
        else:
            query = query.order_by(table.c.ts.desc(), table.c.id.desc()).limit(max(limit, 0))
        with self._read("read events") as conn:
            records = [event_record(row) for row in conn.execute(query).mappings()]
        return records if limit is None else records[::-1]

    def events_after(self, after_id: int, run_id: str | None = None, limit: int = 500
                     ) -> list[tuple[int, Event]]:
        """Events with an id above `after_id` (of one run, or all), oldest first, with their
        ids: what a live stream sends next."""
        table = schema.events
        query = select(table).where(table.c.id > after_id)
        if run_id is not None:
            query = query.where(table.c.run_id == run_id)
        query = query.order_by(table.c.id).limit(max(limit, 0))
        with self._read("read events") as conn:
            return [(int(row["id"]), event_record(row)) for row in conn.execute(query).mappings()]

    def last_event_id(self) -> int:
        """The id of the newest event (0 when there is none)."""
        with self._read("read events") as conn:
            return int(conn.execute(select(func.max(schema.events.c.id))).scalar() or 0)

    def last_event(self, type_: str, model: str) -> Event | None:
        """The most recent event of one type about one model, if any."""
        table = schema.events
        query = (select(table).where(table.c.type == type_, table.c.model == model)
                 .order_by(table.c.ts.desc(), table.c.id.desc()).limit(1))
        with self._read("read events") as conn:
            row = conn.execute(query).mappings().first()
        return None if row is None else event_record(row)

    # -- data quality ------------------------------------------------------------------------

    def record_quality(self, run_id: str, results: Sequence[dict[str, Any]]) -> None:
        """Append one evaluation's rule results (see afluente.quality.results.to_row)."""
        if not results:
            return
        rows = [{**r, "run_id": run_id, "ts": utc_now()} for r in results]
        with self._write(f"record quality results of run {run_id!r}") as conn:
            conn.execute(schema.quality_results.insert(), rows)

    def quality_history(self, limit: int = 5000) -> list[dict[str, Any]]:
        """The most recent rule results, oldest first."""
        table = schema.quality_results
        query = select(table).order_by(table.c.ts.desc(), table.c.id.desc()).limit(limit)
        with self._read("read quality results") as conn:
            rows = [dict(row) for row in conn.execute(query).mappings()]
        return rows[::-1]

    # -- reading runs ------------------------------------------------------------------------

    def list_runs(self, limit: int = 20) -> list[RunRecord]:
        """The most recent runs, newest first, each with its model runs."""
        query = (
            select(schema.runs)
            .order_by(schema.runs.c.started_at.desc(), schema.runs.c.run_id.desc())
            .limit(max(limit, 0))
        )
        with self._read("list runs") as conn:
            rows = list(conn.execute(query).mappings())
            models = self._model_runs(conn, [row["run_id"] for row in rows])
        return [run_record(row, models.get(row["run_id"], ())) for row in rows]

    def get_run(self, run_id: str) -> RunRecord:
        """One run with its model runs, by id or by a unique prefix of its id."""
        with self._read(f"read run {run_id!r}") as conn:
            row = self._find_run(conn, run_id)
            models = self._model_runs(conn, [row["run_id"]])
        return run_record(row, models.get(row["run_id"], ()))

    def _find_run(self, conn: Connection, run_id: str) -> RowMapping:
        runs = schema.runs
        exact = conn.execute(select(runs).where(runs.c.run_id == run_id)).mappings().first()
        if exact is not None:
            return exact
        if run_id:
            query = (
                select(runs)
                .where(runs.c.run_id.startswith(run_id, autoescape=True))
                .order_by(runs.c.started_at.desc())
                .limit(_RECENT_IDS_SHOWN + 1)
            )
            matches = list(conn.execute(query).mappings())
            if len(matches) == 1:
                return matches[0]
            if matches:
                shown = ", ".join(m["run_id"] for m in matches[:_RECENT_IDS_SHOWN])
                more = ", ..." if len(matches) > _RECENT_IDS_SHOWN else ""
                raise StateError(
                    f"run id prefix {run_id!r} matches several runs: {shown}{more}",
                    run_id=run_id,
                    hint="give more characters of the run id",
                )
        raise self._unknown_run(conn, run_id)

    def _unknown_run(self, conn: Connection, run_id: str) -> StateError:
        query = (
            select(schema.runs.c.run_id)
            .order_by(schema.runs.c.started_at.desc())
            .limit(_IDS_SCANNED_FOR_SUGGESTIONS)
        )
        known = list(conn.execute(query).scalars())
        close = difflib.get_close_matches(run_id, known, n=3, cutoff=0.5)
        if close:
            hint = f"did you mean {', '.join(close)}?"
        elif known:
            hint = f"recent runs: {', '.join(known[:_RECENT_IDS_SHOWN])} (see `afluente runs`)"
        else:
            hint = "no run has been recorded yet: start one with `afluente run`"
        return StateError(f"no run with id {run_id!r} in {self.url}", run_id=run_id, hint=hint)

    @staticmethod
    def _model_runs(conn: Connection, run_ids: Sequence[str]) -> dict[str, list[ModelRunRecord]]:
        if not run_ids:
            return {}
        table = schema.model_runs
        query = select(table).where(table.c.run_id.in_(run_ids))
        grouped: dict[str, list[ModelRunRecord]] = {}
        for row in conn.execute(query).mappings():
            grouped.setdefault(row["run_id"], []).append(model_run_record(row))
        for models in grouped.values():
            models.sort(key=execution_order)
        return grouped

    # -- export ------------------------------------------------------------------------------

    def to_arrow(self, table: StateTable) -> pa.Table:
        """A whole store table as Arrow: UTC timestamps, JSON columns as strings."""
        from afluente.state.arrow import to_arrow_table

        check_choice("state table", table, tuple(_TABLES))
        source = _TABLES[table]
        columns = [
            type_coerce(c, Text).label(c.name) if isinstance(c.type, JSONText) else c
            for c in source.columns
        ]
        query = select(*columns).order_by(*source.primary_key.columns)
        with self._read(f"export table {table!r}") as conn:
            rows = [tuple(row) for row in conn.execute(query)]
        return to_arrow_table(source, rows)

    def scrub(self, scrub: Callable[[str], str]) -> dict[str, int]:
        """Rewrite every text the store holds through `scrub` (an erasure): rows changed
        per table. A SQLite file is vacuumed after, so no old page keeps the values."""
        from afluente.state.scrub import scrub_store

        self._check_open()
        with translated(self.url, "scrub erased values", self._secret):
            return scrub_store(self._writer, scrub, str(self.url).startswith("sqlite"))

    # -- transactions ------------------------------------------------------------------------

    @contextmanager
    def _write(self, action: str) -> Iterator[Connection]:
        """One write transaction (on SQLite it holds the write lock from the start)."""
        self._check_open()
        with translated(self.url, action, self._secret), self._writer.begin() as conn:
            yield conn

    @contextmanager
    def _read(self, action: str) -> Iterator[Connection]:
        """One read-only transaction: a consistent snapshot for multi-query reads."""
        self._check_open()
        with translated(self.url, action, self._secret), self._engine.connect() as conn:
            yield conn

    def _check_open(self) -> None:
        if self._closed:
            raise StateError(
                f"state store {self.url} is closed",
                hint="open it again with StateStore.open(url)",
            )
