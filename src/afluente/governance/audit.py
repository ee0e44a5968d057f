"""The audit log: an append-only file of hash-chained entries under the project's state
folder (`.afluente/audit.log`, one JSON object a line).

Each entry is `{seq, ts, principal, action, object, detail, prev_hash, hash}`; `hash` is the
SHA-256 of the entry's other fields (canonical JSON) and `prev_hash` the previous entry's
hash, so changing, removing or reordering an entry breaks the chain at that entry and
`verify` names it. What a chain cannot show is the loss of its *last* entries (the file cut
short): compare `seq`/`hash` of the head with a copy kept elsewhere (`afluente audit --json`).

Entries never hold personal data: an erasure names its certificate, not the subject, so the
log survives every erasure unchanged.
"""

from __future__ import annotations

import fcntl
import getpass
import hashlib
import json
import os
import threading
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from afluente.config import Project
from afluente.config.loader import STATE_DIR
from afluente.errors import AuditError

AuditAction = Literal[
    "write", "erasure", "subject_export", "classify", "grant", "revoke", "access_denied",
    "key", "read", "retention",
]
GENESIS = "0" * 64
FILE_NAME = "audit.log"
PRINCIPAL_ENV = "AFLUENTE_PRINCIPAL"
_LOCK = threading.Lock()


@dataclass(frozen=True)
class AuditEntry:
    seq: int
    ts: str
    principal: str
    action: str
    object: str
    detail: dict[str, Any] = field(default_factory=dict)
    prev_hash: str = GENESIS
    hash: str = ""

    def body(self) -> dict[str, Any]:
        """The hashed fields: everything but `hash`."""
        fields = asdict(self)
        fields.pop("hash")
        return fields

    def digest(self) -> str:
        canonical = json.dumps(self.body(), sort_keys=True, separators=(",", ":"),
                               ensure_ascii=False)
        return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Tamper:
    """The first entry where the chain breaks: its line, its seq (when readable), why."""

    line: int
    seq: int | None
    problem: str

    def describe(self, path: Path) -> str:
        seq = f" (seq {self.seq})" if self.seq is not None else ""
        return f"{path}:{self.line}{seq}: {self.problem}"


def audit_path(project: Project) -> Path:
    return project.root / STATE_DIR / FILE_NAME


def principal() -> str:
    """Who acts: `AFLUENTE_PRINCIPAL` (a service identity) or the OS user."""
    named = os.environ.get(PRINCIPAL_ENV)
    if named:
        return named
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return f"uid:{os.getuid()}"


def append_audit(project: Project, action: AuditAction | str, object: str,
                 detail: dict[str, Any] | None = None, who: str | None = None) -> AuditEntry:
    """Append one entry, chained to the last (the file is locked while appending); `who`
    is the principal when the caller knows it (a service token's account), else
    `principal()`."""
    path = audit_path(project)
    path.parent.mkdir(parents=True, exist_ok=True)
    with _LOCK, path.open("a+", encoding="utf-8") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            last = _last_entry(path)
            entry = _chained(last, action, object, detail or {}, who or principal())
            handle.write(json.dumps(asdict(entry), sort_keys=True, ensure_ascii=False) + "\n")
            handle.flush()
            os.fsync(handle.fileno())
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
    return entry


def _chained(last: AuditEntry | None, action: str, object: str,
             detail: dict[str, Any], who: str) -> AuditEntry:
    draft = AuditEntry(
        seq=(last.seq + 1) if last else 1,
        ts=datetime.now(UTC).isoformat(timespec="microseconds"),
        principal=who, action=action, object=object, detail=detail,
        prev_hash=last.hash if last else GENESIS)
    return AuditEntry(**{**asdict(draft), "hash": draft.digest()})


def _last_entry(path: Path) -> AuditEntry | None:
    """The file's last entry, read from its tail."""
    with path.open("rb") as handle:
        handle.seek(0, os.SEEK_END)
        end = handle.tell()
        size = min(end, 65536)
        while True:
            handle.seek(end - size)
            lines = handle.read(size).splitlines()
            complete = [x for x in lines if x.strip()]
            if complete and (size == end or len(complete) > 1):
                return _parse(complete[-1].decode("utf-8"), 0)
            if size == end:
                return None
            size = min(end, size * 4)


def read_entries(project: Project) -> list[AuditEntry]:
    """Every entry in file order (AuditError when a line is not an entry)."""
    path = audit_path(project)
    return [_parse(text, number) for number, text in _lines(path)]


def _lines(path: Path) -> Iterator[tuple[int, str]]:
    if not path.exists():
        return
    with path.open(encoding="utf-8") as handle:
        for number, text in enumerate(handle, start=1):
            if text.strip():
                yield number, text


def _parse(text: str, line: int) -> AuditEntry:
    try:
        fields = json.loads(text)
        return AuditEntry(**fields)
    except (ValueError, TypeError) as exc:
        raise AuditError(f"audit log line {line} is not an audit entry: {exc}",
                         hint="`afluente audit verify` names the first damaged entry") from None


def verify(project: Project) -> Tamper | None:
    """The first entry that breaks the chain (changed, removed, reordered), or None."""
    path = audit_path(project)
    previous: AuditEntry | None = None
    for number, text in _lines(path):
        try:
            entry = AuditEntry(**json.loads(text))
        except (ValueError, TypeError):
            return Tamper(number, None, "is not a valid entry (edited by hand?)")
        problem = _broken_link(previous, entry)
        if problem:
            return Tamper(number, entry.seq, problem)
        previous = entry
    return None


def _broken_link(previous: AuditEntry | None, entry: AuditEntry) -> str | None:
    expected_seq = previous.seq + 1 if previous else 1
    if entry.hash != entry.digest():
        return "its content does not match its hash: the entry was changed"
    if entry.seq != expected_seq:
        return (f"seq {entry.seq} where {expected_seq} was expected: an entry before it "
                "was removed or the entries were reordered")
    if entry.prev_hash != (previous.hash if previous else GENESIS):
        return "its prev_hash is not the previous entry's hash: an entry was removed or moved"
    return None


def query(project: Project, since: datetime | None = None, action: str | None = None,
          who: str | None = None) -> list[AuditEntry]:
    """Entries filtered by time (on or after `since`), action and principal."""
    found = read_entries(project)
    if since is not None:
        moment = since if since.tzinfo else since.replace(tzinfo=UTC)
        found = [e for e in found if datetime.fromisoformat(e.ts) >= moment]
    if action:
        found = [e for e in found if e.action == action]
    if who:
        found = [e for e in found if e.principal == who]
    return found
