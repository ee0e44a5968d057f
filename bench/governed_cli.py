"""The fixed cost of a governed CLI call (issue 15, RESULTS §29): `afluente query` on the
demo by the ADMIN and by the `analyst` role's token, in child processes, for two source
trees alternating (A B A B): what deciding the read costs a one-shot command, the lineage
of the personal columns included (cached on the branch, `governance/pii_cache.py`).

    python bench/governed_cli.py --tree main=/work/main/src --tree branch=src --pairs 7
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from paired_stats import paired_ratio, spread

SQL = "SELECT count(*) AS n, count(DISTINCT email) AS e FROM gold.dim_customer"


def afluente(src: str, root: Path, *args: str, token: str | None = None) -> tuple[float, str]:
    env = {**os.environ, "PYTHONPATH": src, "AFLUENTE_MASK_KEY": "bench-key"}
    env.pop("AFLUENTE_TOKEN", None)
    if token:
        env["AFLUENTE_TOKEN"] = token
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "afluente.cli", "-p", str(root), *args],
                          env=env, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"{args} failed under {src}: {done.stderr}")
    return elapsed, done.stdout


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tree", action="append", required=True, help="NAME=SRC_PATH")
    parser.add_argument("--pairs", type=int, default=7)
    parser.add_argument("--orders", type=int, default=20_000)
    args = parser.parse_args()
    trees = dict(t.split("=", 1) for t in args.tree)
    (a_name, a_src), (b_name, b_src) = trees.items()
    report: dict[str, object] = {"pairs": args.pairs, "orders": args.orders,
                                 "load": os.getloadavg(), "sql": SQL}
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder) / "demo"
        afluente(b_src, Path(folder), "demo", "--dir", str(root), "--orders", str(args.orders))
        _, out = afluente(b_src, root, "--json", "token", "create", "--role", "analyst",
                          "--name", "bench")
        token = json.loads(out)["token"]
        for who, tok in (("admin", None), ("analyst", token)):
            afluente(a_src, root, "query", SQL, token=tok)  # warm files (and b's cache)
            afluente(b_src, root, "query", SQL, token=tok)
            times: dict[str, list[float]] = {a_name: [], b_name: []}
            for _ in range(args.pairs):
                for name, src in ((a_name, a_src), (b_name, b_src)):
                    times[name].append(afluente(src, root, "query", SQL, token=tok)[0])
            ratio = paired_ratio(times[a_name], times[b_name])
            report[who] = {name: spread(values).text(3) for name, values in times.items()} | {
                f"{b_name}/{a_name}": round(ratio.median, 3),
                "ci": [round(ratio.ci_low, 3), round(ratio.ci_high, 3)]}
    report["load_after"] = os.getloadavg()
    sys.stdout.write(json.dumps(report, indent=1) + "\n")


if __name__ == "__main__":
    main()
