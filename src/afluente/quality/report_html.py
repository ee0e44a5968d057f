"""The standalone HTML quality report: status per table and rule, trend, failing samples.

One self-contained file (inline CSS, no script, no network): it opens from disk or a CI
artifact store as it is.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from html import escape
from typing import Any

_STYLE = """body{font-family:system-ui,sans-serif;margin:2rem;color:#222}
table{border-collapse:collapse;margin:1rem 0}td,th{border:1px solid #ccc;padding:.3rem .6rem}
.pass{color:#17702f}.fail{color:#b3261e;font-weight:bold}.trend span{display:inline-block;
width:.7rem;height:.7rem;margin-right:1px}.trend .p{background:#3a9d5d}.trend .f{background:#d9534f}
pre{background:#f6f6f6;padding:.4rem;max-width:60rem;overflow:auto;font-size:.8rem}"""
TREND_RUNS = 20


def latest_by_rule(history: Sequence[dict[str, Any]]) -> dict[tuple[str, str], dict[str, Any]]:
    """The newest result of each (model, rule); history comes oldest first."""
    return {(str(r["model"]), str(r["rule"])): r for r in history}


def render_report(history: Sequence[dict[str, Any]], title: str) -> str:
    latest = latest_by_rule(history)
    trend: dict[tuple[str, str], list[bool]] = {}
    for r in history:
        trend.setdefault((str(r["model"]), str(r["rule"])), []).append(bool(r["passed"]))
    sections = []
    for model in sorted({m for m, _ in latest}):
        rows = [_row(latest[k], trend[k]) for k in sorted(latest) if k[0] == model]
        failing = sum(not latest[k]["passed"] for k in latest if k[0] == model)
        status = "pass" if not failing else "fail"
        sections.append(
            f"<h2 id='{escape(model)}'>{escape(model)} <span class='{status}'>"
            f"{'all passing' if not failing else f'{failing} failing'}</span></h2>"
            "<table><tr><th>rule</th><th>kind</th><th>action</th><th>evaluated</th>"
            "<th>failed</th><th>%</th><th>status</th><th>trend</th><th>failing sample</th></tr>"
            + "".join(rows) + "</table>"
        )
    body = "".join(sections) or "<p>No expectation has been evaluated yet.</p>"
    return (f"<!doctype html><html><head><meta charset='utf-8'><title>{escape(title)}</title>"
            f"<style>{_STYLE}</style></head><body><h1>{escape(title)}</h1>{body}</body></html>")


def _row(r: dict[str, Any], passes: list[bool]) -> str:
    status = "pass" if r["passed"] else "fail"
    marks = "".join(f"<span class='{'p' if p else 'f'}'></span>" for p in passes[-TREND_RUNS:])
    sample = json.loads(r["sample"] or "[]")
    shown = f"<pre>{escape(json.dumps(sample, indent=1, default=str))}</pre>" if sample else ""
    detail = f"<div>{escape(str(r['detail']))}</div>" if r.get("detail") else ""
    cells = [r["rule"], r["kind"], r["action"], r["rows_evaluated"], r["rows_failed"],
             r["failed_pct"]]
    return ("<tr>" + "".join(f"<td>{escape(str(c))}</td>" for c in cells)
            + f"<td class='{status}'>{status}</td><td class='trend'>{marks}</td>"
            f"<td>{detail}{shown}</td></tr>")
