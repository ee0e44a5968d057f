"""Shared helpers of the afluente benchmarks: timed subprocesses, environment facts, results."""

from __future__ import annotations

import datetime as dt
import json
import os
import platform
import shlex
import signal
import statistics
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

BENCH_DIR = Path(__file__).resolve().parent
REPO_ROOT = BENCH_DIR.parent
DATA_DIR = BENCH_DIR / ".data"
RESULTS_DIR = BENCH_DIR / "results"
VENV_BIN = Path(sys.executable).parent
TIME_BIN = Path("/usr/bin/time")
PACKAGES = ("afluente", "duckdb", "deltalake", "pyarrow", "sqlglot", "pydantic", "typer")


@dataclass
class Measurement:
    """One child process: its wall time, CPU time and peak resident set size."""

    command: list[str]
    wall_s: float
    user_s: float
    sys_s: float
    peak_rss_mib: float
    returncode: int
    stdout_tail: str = ""
    stderr_tail: str = ""


@dataclass
class Series:
    """Repeated measurements of one command; medians are what the reports quote."""

    name: str
    runs: list[Measurement] = field(default_factory=list)

    @property
    def wall_median_s(self) -> float:
        return statistics.median(m.wall_s for m in self.runs)

    @property
    def rss_median_mib(self) -> float:
        return statistics.median(m.peak_rss_mib for m in self.runs)

    def summary(self) -> dict[str, Any]:
        walls = [m.wall_s for m in self.runs]
        return {
            "name": self.name,
            "n": len(self.runs),
            "wall_median_s": round(self.wall_median_s, 3),
            "wall_min_s": round(min(walls), 3),
            "wall_max_s": round(max(walls), 3),
            "peak_rss_median_mib": round(self.rss_median_mib, 1),
            "command": shlex.join(self.runs[0].command) if self.runs else "",
            "runs": [asdict(m) for m in self.runs],
        }


class ChildFailed(RuntimeError):
    """A benchmarked command exited non-zero: the report must show it, not hide it."""

    def __init__(self, measurement: Measurement) -> None:
        self.measurement = measurement
        super().__init__(
            f"command failed with exit code {measurement.returncode}: "
            f"{shlex.join(measurement.command)}\n--- stdout (tail) ---\n"
            f"{measurement.stdout_tail}\n--- stderr (tail) ---\n{measurement.stderr_tail}"
        )


def _tail(data: bytes, limit: int = 4000) -> str:
    text = data.decode("utf-8", errors="replace")
    return text[-limit:]


def measure(
    command: Sequence[str],
    *,
    cwd: Path | None = None,
    timeout_s: float | None = None,
    env: dict[str, str] | None = None,
    check: bool = True,
    stdout_limit: int = 4000,
) -> Measurement:
    """Run `command` as a child process: wall time, CPU time (`wait4`) and peak RSS.

    Peak RSS comes from GNU `/usr/bin/time -f %M` when it is installed. `ru_maxrss` of a child
    seen from a big parent is not enough: Linux carries the parent's high-water mark across
    fork/exec, so a child of a 800 MiB benchmark process never reports less than 800 MiB.
    `time` is a tiny parent, so its report is the tool's own. Without it, `wait4` is used
    (keep the benchmark process small then). Output goes to temporary files, not pipes.
    """
    import tempfile

    with (
        tempfile.TemporaryFile() as out,
        tempfile.TemporaryFile() as err,
        tempfile.NamedTemporaryFile(mode="r", suffix=".rss") as rss_file,
    ):
        argv = list(command)
        if TIME_BIN.exists():
            argv = [str(TIME_BIN), "-f", "%M", "-o", rss_file.name, *argv]
        start = time.perf_counter()
        proc = subprocess.Popen(
            argv, cwd=cwd, stdout=out, stderr=err, env=env, start_new_session=True
        )
        deadline = None if timeout_s is None else start + timeout_s
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid != 0:
                break
            if deadline is not None and time.perf_counter() > deadline:
                os.killpg(proc.pid, signal.SIGKILL)  # `time` and the tool under it
                pid, status, usage = os.wait4(proc.pid, 0)
                break
            time.sleep(0.005)
        wall = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        peak_kib = usage.ru_maxrss  # Linux reports KiB
        reported = rss_file.read().strip().splitlines()
        if TIME_BIN.exists() and reported and reported[-1].isdigit():
            peak_kib = int(reported[-1])
        measurement = Measurement(
            command=list(command),
            wall_s=round(wall, 4),
            user_s=round(usage.ru_utime, 3),
            sys_s=round(usage.ru_stime, 3),
            peak_rss_mib=round(peak_kib / 1024, 1),
            returncode=proc.returncode,
            stdout_tail=_tail(out.read(), stdout_limit),
            stderr_tail=_tail(err.read()),
        )
    if check and measurement.returncode != 0:
        raise ChildFailed(measurement)
    return measurement


def _git(*args: str) -> str:
    try:
        return subprocess.run(
            ["git", *args], cwd=REPO_ROOT, capture_output=True, text=True, check=True
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def _mem_total_gib() -> float:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return round(int(line.split()[1]) / 1024 / 1024, 1)
    except OSError:
        pass
    return float("nan")


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def environment() -> dict[str, Any]:
    """Versions, commit and machine facts recorded with every result file."""
    versions: dict[str, str] = {"python": platform.python_version()}
    for package in PACKAGES:
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            versions[package] = "not installed"
    dirty = _git("status", "--porcelain", "--untracked-files=no")
    return {
        "date_utc": dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "git_commit": _git("rev-parse", "HEAD"),
        "git_tracked_changes": dirty not in ("", "unknown"),
        "load_average_at_start": list(os.getloadavg()),
        "versions": versions,
        "machine": {
            "nproc": os.cpu_count(),
            "mem_total_gib": _mem_total_gib(),
            "cpu": _cpu_model(),
            "platform": platform.platform(),
        },
    }


def write_result(name: str, payload: dict[str, Any]) -> Path:
    """Write `bench/results/<name>.json` (stable name: the latest run of a scenario wins)."""
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    path = RESULTS_DIR / f"{name}.json"
    path.write_text(json.dumps(payload, indent=2, sort_keys=False) + "\n")
    return path


def cpu_busy_fraction(sample_s: float = 2.0) -> float:
    """The share of all CPUs busy over `sample_s` seconds (from /proc/stat), 0.0-1.0."""

    def totals() -> tuple[int, int]:
        fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
        idle = fields[3] + (fields[4] if len(fields) > 4 else 0)  # idle + iowait
        return sum(fields), idle

    try:
        total0, idle0 = totals()
        time.sleep(sample_s)
        total1, idle1 = totals()
    except (OSError, ValueError, IndexError):
        return 0.0
    elapsed = total1 - total0
    return 0.0 if elapsed <= 0 else 1.0 - (idle1 - idle0) / elapsed


def wait_for_idle(max_wait_s: float, threshold: float = 0.15) -> float:
    """Wait (up to `max_wait_s`) until the CPUs are idle; return the last busy share seen.

    Timings on 2 shared cores mean nothing while another job computes, so every benchmark
    waits for a quiet machine first and records what it saw.
    """
    deadline = time.monotonic() + max_wait_s
    busy = cpu_busy_fraction()
    while busy > threshold and time.monotonic() < deadline:
        print(f"machine busy ({busy:.0%} CPU), waiting ...", flush=True)
        time.sleep(10)
        busy = cpu_busy_fraction()
    return busy


def afluente_cli() -> str:
    """The `afluente` console script of the running interpreter's environment."""
    candidate = VENV_BIN / "afluente"
    return str(candidate) if candidate.exists() else "afluente"
