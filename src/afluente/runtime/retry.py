"""`afluente retry`: what of a run to build again.

Everything the run selected that did not end `success` or `up_to_date`: failed models,
models skipped because an upstream failed, and models a crashed or stopped run never
reached (they have no record at all). The retry is a new run of exactly those, so a
model fixed since then is planned like any other (up to date ones do nothing).
"""

from __future__ import annotations

from afluente.config import Project
from afluente.errors import RunError
from afluente.model import load_graph, select
from afluente.state import RunRecord, StateStore
from afluente.state.locks import reap_dead_runs

DONE = ("success", "up_to_date")


def retry_selection(project: Project, run_id: str | None) -> tuple[str, str | None]:
    """The run to retry (given, or the latest failed one) and the selector of what it left
    undone (None when nothing)."""
    with StateStore.open(project.state_url) as state:
        reap_dead_runs(state, by="afluente retry")
        run = state.get_run(run_id) if run_id else _latest_failed(state)
    if run.status == "running":
        raise RunError(
            f"run {run.run_id} is still running (pid {run.args.get('pid')} on "
            f"{run.args.get('host')})",
            run_id=run.run_id,
            hint="wait for it to finish, then retry what it left undone",
        )
    graph = load_graph(project)
    done = {m.model for m in run.models if m.status in DONE}
    chosen = select(graph, run.selector)
    todo = sorted(str(ref) for ref in chosen if str(ref) not in done)
    return run.run_id, " ".join(todo) if todo else None


def _latest_failed(state: StateStore) -> RunRecord:
    for run in state.list_runs(limit=200):
        if run.status == "failed":
            return run
    raise RunError(
        "no failed run to retry",
        hint="every recent run succeeded; pass a run id to retry a specific run",
    )
