"""Runs and backfills started through the API: each is the CLI's own command in a child
process (`afluente --json run ...`), holding the caller's token, so it takes the same locks,
grants and retries as one started in a terminal, and its errors are the CLI's.

Before starting, the selection is checked here (a bad selector gets the CLI's message and
hint at once) and so is the lock of every table it writes: one held by a live run is a 409
naming its holder instead of a wait.
"""

from __future__ import annotations

import json
import os
import secrets
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Literal

from afluente.config import Project
from afluente.governance.identity import TOKEN_ENV
from afluente.server.problems import ApiError, Conflict, NotFound

if TYPE_CHECKING:
    from afluente.governance.reader import GovernedReader
    from afluente.server.auth import Caller
    from afluente.server.store import ServerStore

JobKind = Literal["run", "backfill", "retry"]
#: How long `POST /api/runs` waits for the child to record its run.
RUN_ID_WAIT_S = 60.0


@dataclass
class Job:
    job_id: str
    kind: JobKind
    principal: str
    args: list[str]
    process: subprocess.Popen[str]
    started_at: datetime
    run_id: str | None = None
    stdout: str = ""
    stderr: str = ""
    done: threading.Event = field(default_factory=threading.Event)

    def as_json(self) -> dict[str, Any]:
        code = self.process.returncode if self.done.is_set() else None
        status = "running" if code is None else "succeeded" if code == 0 else "failed"
        body: dict[str, Any] = {"job_id": self.job_id, "kind": self.kind, "status": status,
                                "principal": self.principal, "command": self.args,
                                "started_at": self.started_at.isoformat(),
                                "run_id": self.run_id, "exit_code": code}
        if code is not None:
            body["result"] = _json_or_none(self.stdout)
            body["error"] = cli_error(self.stderr)
        return body


def _json_or_none(text: str) -> Any:
    try:
        return json.loads(text) if text.strip() else None
    except ValueError:
        return None


def cli_error(stderr: str) -> dict[str, str | None] | None:
    """The CLI's `--json` error line as `{detail, hint}` (None when it wrote none)."""
    for line in reversed(stderr.strip().splitlines()):
        said = _json_or_none(line)
        if isinstance(said, dict) and isinstance(said.get("error"), str):
            detail, _, hint = said["error"].partition("\n  hint: ")
            return {"detail": detail, "hint": hint or None}
    return None


class Jobs:
    """The runs and backfills this server started."""

    def __init__(self, project: Project, environment: str | None) -> None:
        self.project = project
        self.environment = environment
        self._jobs: dict[str, Job] = {}
        self._lock = threading.Lock()

    def get(self, job_id: str) -> Job:
        with self._lock:
            job = self._jobs.get(job_id)
        if job is None:
            raise NotFound(f"no job {job_id} was started by this server",
                           hint="GET /api/jobs lists them")
        return job

    def all(self) -> list[Job]:
        with self._lock:
            return list(self._jobs.values())

    def start_run(self, caller: Caller, reader: GovernedReader, store: ServerStore,
                  selector: str | None, full_refresh: bool) -> Job:
        self._check(reader, store, selector)
        args = ["run", *(["--select", selector] if selector else []),
                *(["--full-refresh"] if full_refresh else [])]
        return self._started(store, self._spawn(caller, "run", args))

    def start_retry(self, caller: Caller, reader: GovernedReader, store: ServerStore,
                    run_id: str) -> Job | None:
        """`afluente retry RUN_ID` as the caller; None when the run left nothing undone.
        A run still running, or unknown, gets the CLI's error."""
        from afluente.errors import AfluenteError
        from afluente.runtime.retry import retry_selection

        try:
            target, selector = retry_selection(self.project, run_id)
        except AfluenteError as error:
            if error.message.startswith("no run with id"):
                raise NotFound(error.message, hint=error.hint) from None
            raise Conflict(error.message, hint=error.hint) from None
        if selector is None:
            return None
        self._check(reader, store, selector)
        return self._started(store, self._spawn(caller, "retry", ["retry", target]))

    def cancel(self, store: ServerStore, run_id: str, by: str) -> Job:
        """Stop the process of a run this server started (SIGTERM), then record the run as
        failed, as `afluente runs` does for a run whose process died: no new model starts,
        and `retry` builds what it left undone. A run started elsewhere is a 409."""
        from afluente.state.locks import reap_dead_runs

        job = next((j for j in self.all() if j.run_id == run_id), None)
        if job is None:
            raise Conflict(f"run {run_id} was not started by this server",
                           hint="stop it where it runs (Ctrl-C in its terminal, or stop "
                                "the scheduler); the UI cancels only the runs it started")
        if not job.done.is_set():
            job.process.terminate()
            job.done.wait(30)
        reap_dead_runs(store, by=f"a cancel by {by}")
        return job

    def _started(self, store: ServerStore, job: Job) -> Job:
        """`job` once its run is recorded, or the CLI's error when it exited first."""
        job.run_id = _wait_for_run(store, job)
        if job.run_id is None and job.done.is_set():
            said = cli_error(job.stderr) or {"detail": "the run exited before it started",
                                             "hint": job.stderr[-500:] or None}
            raise ApiError(str(said["detail"]), hint=said["hint"])
        return job

    def start_backfill(self, caller: Caller, reader: GovernedReader, store: ServerStore,
                       selector: str, start: str, end: str) -> Job:
        self._check(reader, store, selector)
        return self._spawn(caller, "backfill", ["backfill", selector, "--start", start,
                                                "--end", end])

    def _check(self, reader: GovernedReader, store: ServerStore, selector: str | None) -> None:
        """The CLI's errors for a bad selection or a missing MODIFY grant, and a 409 for a
        table a live run holds."""
        from afluente.runtime.runner import select_project, table_locks
        from afluente.state.locks import held_locks, live_runs

        graph, chosen = select_project(self.project, selector)
        if self.project.config.governance is not None:
            for ref in sorted(chosen, key=str):
                reader.decide(ref, [], "MODIFY")
        wanted = set(table_locks(graph, chosen))
        held = [h for h in held_locks(store) if h.name in wanted]
        alive = live_runs(store) if held else set()
        for holder in held:
            if holder.holder in alive:
                raise Conflict(f"`{holder.name}` is locked by {holder.describe()}",
                               hint="wait for that run to finish (GET /api/events/stream "
                                    f"?run_id={holder.holder} follows it), then start again")

    def _spawn(self, caller: Caller, kind: JobKind, args: list[str]) -> Job:
        command = [sys.executable, "-m", "afluente", "--json", "-p", str(self.project.root),
                   *(["--env", self.environment] if self.environment else []), *args]
        env = {**os.environ, TOKEN_ENV: caller.token}
        process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                   stdin=subprocess.DEVNULL, text=True, env=env,
                                   cwd=self.project.root)
        job = Job(secrets.token_hex(6), kind, caller.name, ["afluente", *args], process,
                  datetime.now(UTC))
        with self._lock:
            self._jobs[job.job_id] = job
        threading.Thread(target=_collect, args=(job,), name=f"afluente-job-{job.job_id}",
                         daemon=True).start()
        return job

    def stop_all(self, wait_s: float = 0.0) -> None:
        """Wait up to `wait_s` for running jobs (they are not killed: a run stopped halfway
        is only recovered by the next one)."""
        deadline = time.monotonic() + wait_s
        for job in self.all():
            job.done.wait(max(0.0, deadline - time.monotonic()))


def _collect(job: Job) -> None:
    job.stdout, job.stderr = job.process.communicate()
    job.done.set()


def _wait_for_run(store: ServerStore, job: Job) -> str | None:
    """The id of the run the child recorded (its `pid` in the run's args), or None when it
    exited first. The child's start-up is awaited by looking at the runs table every 50 ms."""
    deadline = time.monotonic() + RUN_ID_WAIT_S
    while time.monotonic() < deadline:
        found = _recorded(store, job.process.pid)
        if found is not None:
            return found
        if job.done.wait(0.05):
            return _recorded(store, job.process.pid)
    return None


def _recorded(store: ServerStore, pid: int) -> str | None:
    host = socket.gethostname()
    return next((r.run_id for r in store.list_runs(10)
                 if r.args.get("pid") == pid and r.args.get("host") == host), None)
