"""`afluente show` (time travel), `history` and `runs` through the real command."""

from __future__ import annotations

import json
import subprocess
import time
from datetime import UTC, datetime
from pathlib import Path

from tests.cli_inprocess import run_afluente

from afluente.cli.scaffold import scaffold


def afluente(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return run_afluente(["-p", str(root), *args])


def test_show_travels_by_version_and_time(tmp_path: Path) -> None:
    root = tmp_path / "shop"
    scaffold(root)
    assert afluente(root, "run").returncode == 0
    time.sleep(0.05)
    between = datetime.now(UTC).isoformat()
    time.sleep(0.05)
    (root / "landing" / "orders_2.csv").write_text(
        "order_id;customer_id;amount;ordered_at\n14;2;10,00;2026-03-01\n"
    )
    assert afluente(root, "run").returncode == 0

    now = json.loads(afluente(root, "--json", "show", "silver.orders", "-n", "100").stdout)
    v0 = json.loads(afluente(root, "--json", "show", "silver.orders", "--version", "0").stdout)
    past = json.loads(afluente(root, "--json", "show", "silver.orders", "--as-of", between).stdout)
    assert len(now) == 5 and len(v0) == 4
    assert sorted(r["order_id"] for r in past) == [10, 11, 12, 13]

    history = json.loads(afluente(root, "--json", "history", "silver.orders").stdout)
    assert [(h["version"], h["rows"]) for h in history] == [(1, 5), (0, 4)]
    runs = json.loads(afluente(root, "--json", "runs").stdout)
    assert [r["run_id"] for r in runs] == [h["run_id"] for h in history]
    # a run is found by a prefix of its id: the shortest one the other run does not share (two
    # runs in the same second share the timestamp part, `20261202T234638-`)
    latest, other = runs[0]["run_id"], runs[1]["run_id"]
    prefix = next(latest[:n] for n in range(1, len(latest) + 1) if not other.startswith(latest[:n]))
    detail = json.loads(afluente(root, "--json", "runs", prefix).stdout)
    assert detail["run_id"] == latest
    statuses = {m["model"]: m["status"] for m in detail["models"]}
    assert statuses["silver.customers"] == "up_to_date"
    assert statuses["silver.orders"] == "success"


def test_show_bad_version_and_bad_time_are_explained(tmp_path: Path) -> None:
    root = tmp_path / "shop"
    scaffold(root)
    assert afluente(root, "run").returncode == 0
    missing = afluente(root, "show", "silver.orders", "--version", "9")
    assert missing.returncode == 1
    assert "`silver.orders` has no version 9" in missing.stderr
    assert "afluente history silver.orders" in missing.stderr
    garbled = afluente(root, "show", "silver.orders", "--as-of", "yesterday")
    assert garbled.returncode == 1
    assert "invalid --as-of value 'yesterday'" in garbled.stderr
    unbuilt = tmp_path / "fresh"
    scaffold(unbuilt)
    never = afluente(unbuilt, "show", "gold.revenue_by_state")
    assert never.returncode == 1
    assert "has not been built yet" in never.stderr
    assert "afluente run --select +gold.revenue_by_state" in never.stderr


def test_history_schema_shows_each_schema_change(tmp_path: Path) -> None:
    root = tmp_path / "shop"
    scaffold(root)
    assert afluente(root, "run").returncode == 0
    # a new landing file brings a new column: bronze evolves (v1), then a run with more rows
    # but the same columns changes nothing in the schema history
    (root / "landing" / "orders_2.csv").write_text(
        "order_id;customer_id;amount;ordered_at;channel\n14;2;10,00;2026-03-01;app\n"
    )
    assert afluente(root, "run").returncode == 0
    (root / "landing" / "orders_3.csv").write_text(
        "order_id;customer_id;amount;ordered_at;channel\n15;2;11,00;2026-03-02;web\n"
    )
    assert afluente(root, "run").returncode == 0

    done = afluente(root, "--json", "history", "bronze.orders", "--schema")
    assert done.returncode == 0, done.stderr
    changes = json.loads(done.stdout)
    assert [c["change"] for c in changes] == ["+channel string", "created with 9 columns"]
    assert changes[0]["added"] == [{"column": "channel", "type": "string"}]
    all_versions = json.loads(afluente(root, "--json", "history", "bronze.orders").stdout)
    assert len(all_versions) > len(changes)
