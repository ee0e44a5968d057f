"""The report of `compare_revisions.py`: a markdown section for RESULTS.md, and content checks.

The sides are the `Side` objects of compare_revisions (label, rev, sha, runs, stages, load,
tables); this module only reads them.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from _common import Measurement
from paired_stats import paired_difference, paired_ratio, spread

METRICS: tuple[tuple[str, Callable[[Measurement], float], int], ...] = (
    ("wall s", lambda m: m.wall_s, 2),
    ("CPU s (user+sys)", lambda m: m.user_s + m.sys_s, 2),
    ("peak RSS MiB", lambda m: m.peak_rss_mib, 0),
)
STAGES = (
    ("start-up (launch → run row opened)", "startup_s"),
    ("run (opened → closed: plan, models)", "run_s"),
    ("of which: until the last model ended", "models_span_s"),
    ("post-run (closed → exit: observability)", "post_run_s"),
)
TOP_MODELS = 10


def content_check(bench: str, sides: Sequence[Any], projects: Sequence[Path],
                  reference: Path) -> dict[str, Any]:
    """Did both sides write the same thing? Row counts per table; `verify.py` for reference."""
    a, b = sides
    if bench.startswith("startup:"):
        return {"checked": "nothing (a read-only command)"}
    differ = {t: {"A": a.tables.get(t), "B": b.tables.get(t)}
              for t in sorted(set(a.tables) | set(b.tables)) if a.tables.get(t) != b.tables.get(t)}
    result: dict[str, Any] = {"tables": len(a.tables), "row_count_differences": differ,
                              "match": not differ and bool(a.tables)}
    if bench == "reference":
        from reference_pipeline import afluente_layout

        outs = [afluente_layout(p, project=p, out=p / "verify_out") for p in projects]
        checked = subprocess.run([sys.executable, str(reference / "verify.py"), *map(str, outs)],
                                 cwd=reference, capture_output=True, text=True, check=False)
        result["verify_py_match"] = checked.returncode == 0
        result["verify_py_output"] = (checked.stdout + checked.stderr)[-4000:]
        result["match"] = result["match"] and checked.returncode == 0
    return result


def _load(side: Any) -> str:
    return f"{min(side.load):.2f}-{max(side.load):.2f}"


def metric_rows(a: Any, b: Any) -> list[str]:
    rows = []
    for name, get, digits in METRICS:
        xs, ys = [get(m) for m in a.runs], [get(m) for m in b.runs]
        ratio = paired_ratio(xs, ys)
        rows.append(
            f"| {name} | {spread(xs).text(digits)} | {spread(ys).text(digits)} | "
            f"**{ratio.median:.3f}** [{ratio.ci_low:.3f}, {ratio.ci_high:.3f}] | "
            f"{ratio.lower_in}/{ratio.n} (p = {ratio.sign_p:.2g}) | {ratio.verdict()} |"
        )
    return rows


def _stage_row(name: str, xs: list[float], ys: list[float]) -> str:
    return (f"| {name} | {statistics.median(xs):.2f} | {statistics.median(ys):.2f} | "
            f"{paired_difference(xs, ys):+.2f} |")


def stage_rows(a: Any, b: Any) -> list[str]:
    """Stages, then the models whose seconds moved most (paired median difference)."""
    if not a.stages or not all(a.stages + b.stages):
        return []
    rows = ["", "Where the difference is (state store of each run; median seconds, and the "
            "median of the paired differences B - A):", "",
            "| stage | A | B | B - A |", "|---|---:|---:|---:|"]
    for name, key in STAGES:
        if all(key in s for s in a.stages + b.stages):
            rows.append(_stage_row(name, [s[key] for s in a.stages], [s[key] for s in b.stages]))
    models = sorted(set(a.stages[0]["models"]) & set(b.stages[0]["models"]))
    series = {m: ([s["models"].get(m, 0.0) for s in a.stages],
                  [s["models"].get(m, 0.0) for s in b.stages]) for m in models}
    rows.append(_stage_row("sum of model seconds (overlap on workers)",
                           [sum(s["models"].values()) for s in a.stages],
                           [sum(s["models"].values()) for s in b.stages]))
    moved = sorted(models, key=lambda m: -abs(paired_difference(*series[m])))
    rows += [_stage_row(f"model `{m}`", *series[m]) for m in moved[:TOP_MODELS]]
    return rows


def markdown(title: str, command: str, env: dict[str, Any], sides: Sequence[Any],
             busy: list[float], content: dict[str, Any], warmup: int) -> str:
    a, b = sides
    versions = env["versions"]
    lines = [
        f"### {title}: B `{b.key[:7]}` vs A `{a.key[:7]}`",
        "",
        f"A = `{a.rev}` ({a.sha[:12]}), B = `{b.rev}` ({b.sha[:12]}); {len(a.runs)} pairs run "
        f"A then B, after {warmup} untimed warm-up run(s) of each; {env['date_utc']}. "
        f"Load average (1 min) "
        f"before each run: A {_load(a)}, B {_load(b)}; CPU busy before each pair "
        f"{min(busy):.0%}-{max(busy):.0%} ({env['machine']['nproc']} CPUs, shared).",
        "",
        "| metric | A median (IQR) | B median (IQR) | B/A paired median [95 % bootstrap CI] "
        "| pairs with B < A (sign test) | verdict |",
        "|---|---:|---:|---:|---:|---|",
        *metric_rows(a, b),
        *stage_rows(a, b),
        "",
        f"Content: {describe_content(content)}",
        "",
        f"Versions: python {versions['python']}, duckdb {versions['duckdb']}, deltalake "
        f"{versions['deltalake']}, pyarrow {versions['pyarrow']} (one virtualenv, each side "
        f"with `PYTHONPATH=bench/.data/revs/<sha>/src`). Command:",
        "",
        f"```sh\n{command}\n```",
    ]
    return "\n".join(lines)


def describe_content(content: dict[str, Any]) -> str:
    if "checked" in content:
        return str(content["checked"])
    text = (f"row counts of all {content['tables']} tables identical" if
            not content["row_count_differences"] else
            f"ROW COUNTS DIFFER: {content['row_count_differences']}")
    if "verify_py_match" in content:
        text += "; the reference's `verify.py` (B against A): " + (
            "MATCH" if content["verify_py_match"] else "MISMATCH")
    return text + "."
