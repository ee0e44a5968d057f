"""Benchmark: twenty row-level expectations on a 10M-row table vs the same build without
them, and the same suite in Great Expectations (pandas) when it is installed in a separate
venv (GX_PYTHON, default /tmp/gxvenv/bin/python). Writes bench/results/quality.json.

    .venv/bin/python bench/quality.py [ROWS]
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from afluente.config import load_project
from afluente.runtime import run_project

ROWS = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000_000
BODY = f"""
SELECT i AS id, 'c' || (i % 1000) AS code, (i % 97) * 1.5 AS amount, i % 5 AS bucket,
       CASE WHEN i % 50 = 0 THEN NULL ELSE 'user' || i || '@example.com' END AS email,
       DATE '2020-01-01' + CAST(i % 2000 AS INTEGER) AS day
FROM range({ROWS}) AS t(i)
"""
RULES = [
    "{name: r01, not_null: id}", "{name: r02, not_null: code}",
    "{name: r03, not_null: email, mostly: 0.9}", "{name: r04, not_null: day}",
    "{name: r05, between: {column: amount, min: 0, max: 200}}",
    "{name: r06, between: {column: bucket, min: 0, max: 4}}",
    "{name: r07, between: {column: id, min: 0}}",
    "{name: r08, accepted_values: {column: bucket, values: [0, 1, 2, 3, 4]}}",
    "{name: r09, regex: {column: code, pattern: '^c[0-9]+$'}}",
    "{name: r10, regex: {column: email, pattern: '@example[.]com$'}}",
    "{name: r11, length: {column: code, min: 2, max: 4}}",
    "{name: r12, length: {column: email, max: 40}}",
    "{name: r13, format: {column: email, as: email}}",
    "{name: r14, format: {column: day, as: date}}",
    "{name: r15, expression: amount >= 0}", "{name: r16, expression: id % 7 <> 3, mostly: 0.5}",
    "{name: r17, expression: \"day >= DATE '2020-01-01'\"}",
    "{name: r18, between: {column: amount, min: 1}, action: drop}",
    "{name: r19, accepted_values: {column: code, values: [c1, c2, c3]}, mostly: 0.001}",
    "{name: r20, expression: bucket <> 4, action: quarantine}",
]


def build(root: Path, rules: list[str]) -> float:
    (root / "models" / "silver").mkdir(parents=True, exist_ok=True)
    (root / "afluente.yml").write_text("name: bench\nwarehouse: warehouse\n")
    header = "kind: full\n" + ("expectations:\n" + "".join(f"  - {r}\n" for r in rules)
                               if rules else "")
    (root / "models/silver/big.sql").write_text(f"/* @config\n{header}*/\n{BODY}")
    started = time.perf_counter()
    result = run_project(load_project(root))
    elapsed = time.perf_counter() - started
    assert result.status == "success", result.models[0].error
    return elapsed


def great_expectations(parquet: Path) -> dict[str, object]:
    python = os.environ.get("GX_PYTHON", "/tmp/gxvenv/bin/python")
    if not Path(python).exists():
        return {"status": "not installed"}
    script = Path(__file__).with_name("quality_gx.py")
    done = subprocess.run([python, str(script), str(parquet)], capture_output=True, text=True,
                          check=False)
    if done.returncode != 0:
        return {"status": "failed", "error": done.stderr[-1500:]}
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        plain = build(base / "plain", [])
        checked = build(base / "checked", RULES)
        parquet = next((base / "plain" / "warehouse" / "silver" / "big").glob("*.parquet"))
        files = sorted((base / "plain" / "warehouse" / "silver" / "big").glob("*.parquet"))
        gx = great_expectations(files[0].parent if len(files) > 1 else parquet)
    figures = {
        "rows": ROWS, "rules": len(RULES), "build_without_rules_s": round(plain, 2),
        "build_with_rules_s": round(checked, 2),
        "overhead_pct": round(100 * (checked - plain) / plain, 1),
        "great_expectations": gx, "cpus": os.cpu_count(),
    }
    out = Path(__file__).with_name("results") / "quality.json"
    out.write_text(json.dumps(figures, indent=2) + "\n")
    sys.stdout.write(json.dumps(figures, indent=2) + "\n")


if __name__ == "__main__":
    main()
