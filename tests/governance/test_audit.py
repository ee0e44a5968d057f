"""The audit log's hash chain: appends, queries, and tampering found and named."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from pathlib import Path

import pytest

from afluente.config import Project, load_project
from afluente.errors import AuditError
from afluente.governance.audit import append_audit, audit_path, query, read_entries, verify
from cli_inprocess import run_afluente


@pytest.fixture
def project(tmp_path: Path) -> Project:
    (tmp_path / "afluente.yml").write_text("name: audited\n", encoding="utf-8")
    found = load_project(tmp_path)
    append_audit(found, "write", "silver.orders", {"version": 1})
    append_audit(found, "erasure", "erasure:abc", {"rows_removed": 3})
    append_audit(found, "write", "gold.fct_orders", {"version": 2})
    return found


def _lines(project: Project) -> list[str]:
    return audit_path(project).read_text(encoding="utf-8").splitlines()


def _save(project: Project, lines: list[str]) -> None:
    audit_path(project).write_text("\n".join(lines) + "\n", encoding="utf-8")


def test_entries_chain_and_query(project: Project, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AFLUENTE_PRINCIPAL", "svc-etl")
    append_audit(project, "grant", "silver.customers", {"role": "analyst"})
    entries = read_entries(project)
    assert [e.seq for e in entries] == [1, 2, 3, 4]
    assert all(e.prev_hash == p.hash for p, e in pairwise(entries))
    assert entries[0].prev_hash == "0" * 64 and verify(project) is None
    assert [e.object for e in query(project, action="write")] == ["silver.orders",
                                                                  "gold.fct_orders"]
    assert [e.action for e in query(project, who="svc-etl")] == ["grant"]
    future = datetime.now(UTC) + timedelta(hours=1)
    assert query(project, since=future) == []


def test_a_changed_entry_is_named(project: Project) -> None:
    lines = _lines(project)
    entry = json.loads(lines[1])
    entry["detail"]["rows_removed"] = 0
    lines[1] = json.dumps(entry)
    _save(project, lines)
    tamper = verify(project)
    assert tamper is not None and (tamper.line, tamper.seq) == (2, 2)
    assert "content does not match its hash" in tamper.problem


def test_a_removed_entry_is_named(project: Project) -> None:
    lines = _lines(project)
    _save(project, [lines[0], lines[2]])
    tamper = verify(project)
    assert tamper is not None and (tamper.line, tamper.seq) == (2, 3)
    assert "seq 3 where 2 was expected" in tamper.problem


def test_reordered_entries_are_named(project: Project) -> None:
    lines = _lines(project)
    _save(project, [lines[0], lines[2], lines[1]])
    tamper = verify(project)
    assert tamper is not None and tamper.line == 2
    assert "removed or the entries were reordered" in tamper.problem


def test_a_rehashed_forgery_breaks_the_next_link(project: Project) -> None:
    """Recomputing the changed entry's own hash is not enough: the next entry's prev_hash
    still names the original."""
    entries = read_entries(project)
    forged = entries[1].__class__(**{**entries[1].__dict__, "principal": "someone-else"})
    forged = forged.__class__(**{**forged.__dict__, "hash": forged.digest()})
    lines = _lines(project)
    lines[1] = json.dumps(forged.__dict__)
    _save(project, lines)
    tamper = verify(project)
    assert tamper is not None and (tamper.line, tamper.seq) == (3, 3)
    assert "prev_hash is not the previous entry's hash" in tamper.problem


def test_cli_verify_fails_on_tampering_and_appending_refuses_garbage(project: Project) -> None:
    ok = run_afluente(["-p", str(project.root), "--json", "audit", "verify"])
    assert ok.returncode == 0 and json.loads(ok.stdout)["entries"] == 3
    listed = run_afluente(["-p", str(project.root), "--json", "audit", "--action", "erasure"])
    assert [e["object"] for e in json.loads(listed.stdout)] == ["erasure:abc"]
    lines = _lines(project)
    _save(project, [lines[0], lines[1].replace('"rows_removed": 3', '"rows_removed": 4'),
                    lines[2]])
    broken = run_afluente(["-p", str(project.root), "audit", "verify"])
    assert broken.returncode == 1
    assert f"audit log broken at {audit_path(project)}:2 (seq 2)" in broken.stderr
    _save(project, [*lines, "not json"])
    with pytest.raises(AuditError, match="is not an audit entry"):
        append_audit(project, "write", "silver.orders")
