"""`afluente forget` on the demo against a full rebuild (issue 15, RESULTS §24 and §36).

For `--orders N` the demo is generated and built once; then each pair measures, in child
processes, alternating: `afluente run` from scratch (warehouse and state removed: the full
rebuild an erasure without `forget` would need, after deleting the subject at the source),
and `afluente forget --subject cpf=...` on a fresh copy of the built project (a different
customer each time). Medians go to `bench/results/forget_<N>.json`.

`--encrypted` (§36) builds a second copy of the demo with `governance.encryption` declared
(`subject: cpf`, a master key from the environment, made for the benchmark): its personal
columns are sealed, so the erasure's row search opens them. Each round then measures, in an
order that rotates, the rebuild of the encrypted project (its keyring kept), `forget` on it,
and `forget` on the clear one (the same customer: both are built from the same seed).
Medians go to `bench/results/forget_encrypted_<N>.json`.

    PYTHONPATH=src python bench/forget.py --orders 200000 --pairs 3
    PYTHONPATH=src python bench/forget.py --orders 1000000 --pairs 2 --encrypted
    PYTHONPATH=src python bench/forget.py --orders 1000000 --pairs 3 --encrypted --no-rebuild
"""

from __future__ import annotations

import argparse
import base64
import os
import shutil
import statistics
import sys
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import DATA_DIR, REPO_ROOT, Measurement, environment, measure, write_result

from afluente.config import load_project
from afluente.demo.build import prepare_demo
from afluente.model import TableRef
from afluente.storage import Warehouse

CLI = [sys.executable, "-m", "afluente.cli"]
ENV = {**os.environ, "PYTHONPATH": str(REPO_ROOT / "src")}
ENCRYPTION = "governance:\n  encryption:\n    key: {source: env}\n    subject: cpf\n"


def _subjects(root: Path, count: int) -> list[str]:
    customers = Warehouse(load_project(root).warehouse_uri).dataset(
        TableRef("silver", "customers")).to_table(columns=["cpf"])
    cpfs = sorted(c for c in customers["cpf"].to_pylist() if c)
    step = max(1, len(cpfs) // (count + 1))
    return cpfs[step::step][:count]


def _built(root: Path, orders: int, env: dict[str, str], encrypted: bool = False) -> None:
    if (root / "warehouse").exists():
        return
    prepare_demo(root, orders=orders, seed=42)
    if encrypted:
        config = root / "afluente.yml"
        config.write_text(config.read_text(encoding="utf-8").replace(
            "governance:\n", ENCRYPTION, 1), encoding="utf-8")
        measure([*CLI, "-p", str(root), "keys", "init"], env=env)
    measure([*CLI, "-p", str(root), "run"], env=env)


def _scratch(built: Path, scratch: Path, whole: bool) -> Path:
    """A fresh copy of `built`: whole (to erase from), or without its tables and state but
    with its keyring (to rebuild)."""
    shutil.rmtree(scratch, ignore_errors=True)
    if whole:
        return Path(shutil.copytree(built, scratch))
    shutil.copytree(built, scratch, ignore=shutil.ignore_patterns("warehouse", ".afluente"))
    keyring = built / ".afluente" / "keyring.db"
    if keyring.exists():
        (scratch / ".afluente").mkdir()
        shutil.copy2(keyring, scratch / ".afluente" / "keyring.db")
    return scratch


def _timed(built: Path, scratch: Path, env: dict[str, str], cpf: str | None) -> Measurement:
    """`forget --subject cpf=...` on a copy of `built` (a rebuild when `cpf` is None)."""
    root = _scratch(built, scratch, whole=cpf is not None)
    args = ["run"] if cpf is None else ["forget", "--subject", f"cpf={cpf}"]
    done = measure([*CLI, "-p", str(root), *args], env=env)
    shutil.rmtree(root)
    return done


def clear(args: argparse.Namespace) -> None:
    base = DATA_DIR / f"forget_{args.orders}"
    built = base / "built"
    _built(built, args.orders, ENV)
    rebuild, forget = [], []
    for cpf in _subjects(built, args.pairs):
        rebuild.append(_timed(built, base / "scratch", ENV, None).wall_s)
        forget.append(_timed(built, base / "scratch", ENV, cpf).wall_s)
        print(f"rebuild {rebuild[-1]:.1f}s  forget {forget[-1]:.1f}s", flush=True)
    result = {"orders": args.orders, "rebuild_s": rebuild, "forget_s": forget,
              "rebuild_median_s": statistics.median(rebuild),
              "forget_median_s": statistics.median(forget), "environment": environment()}
    write_result(f"forget_{args.orders}", result)
    print(f"median: rebuild {result['rebuild_median_s']:.1f}s, "
          f"forget {result['forget_median_s']:.1f}s")


def encrypted(args: argparse.Namespace) -> None:
    base = DATA_DIR / f"forget_{args.orders}"
    key_file = base / "master.key"
    if not key_file.exists():
        base.mkdir(parents=True, exist_ok=True)
        key_file.write_text(base64.b64encode(os.urandom(32)).decode())
    env = {**ENV, "AFLUENTE_MASTER_KEY": key_file.read_text()}
    plain, sealed = base / "built", base / "built_encrypted"
    _built(plain, args.orders, ENV)
    _built(sealed, args.orders, env, encrypted=True)
    scratch = base / "scratch"
    steps: dict[str, Callable[[str], Measurement]] = {
        "rebuild_encrypted": lambda cpf: _timed(sealed, scratch, env, None),
        "forget_encrypted": lambda cpf: _timed(sealed, scratch, env, cpf),
        "forget_clear": lambda cpf: _timed(plain, scratch, ENV, cpf),
    }
    if args.no_rebuild:
        del steps["rebuild_encrypted"]
    runs: dict[str, list[dict[str, float]]] = {name: [] for name in steps}
    medians: dict[str, dict[str, float]] = {}
    for round_, cpf in enumerate(_subjects(plain, args.pairs)):
        names = list(steps)
        turn = round_ % len(names)
        for name in names[turn:] + names[:turn]:  # the order rotates
            done = steps[name](cpf)
            if done.returncode != 0:
                raise SystemExit(f"{name} failed: {done.stderr_tail}")
            runs[name].append({"wall_s": done.wall_s, "cpu_s": done.user_s + done.sys_s,
                               "load_1m": os.getloadavg()[0]})
            print(f"round {round_}: {name} {done.wall_s:.1f}s wall, "
                  f"{done.user_s + done.sys_s:.1f}s cpu, load {os.getloadavg()[0]:.1f}",
                  flush=True)
        medians = _medians(runs, args.orders)  # written each round: a cut-short run keeps them
    for name, median in medians.items():
        print(f"median {name}: {median['wall_s']:.1f}s wall, {median['cpu_s']:.1f}s cpu")


def _medians(runs: dict[str, list[dict[str, float]]], orders: int
             ) -> dict[str, dict[str, float]]:
    medians = {name: {"wall_s": statistics.median(r["wall_s"] for r in rows),
                      "cpu_s": statistics.median(r["cpu_s"] for r in rows)}
               for name, rows in runs.items()}
    write_result(f"forget_encrypted_{orders}" + ("" if "rebuild_encrypted" in runs else
                                                 "_forget_only"), {"orders": orders, "runs": runs,
                                                "medians": medians,
                                                "environment": environment()})
    return medians


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--orders", type=int, default=200_000)
    parser.add_argument("--pairs", type=int, default=3)
    parser.add_argument("--encrypted", action="store_true",
                        help="also build the demo encrypted; time its rebuild and forget "
                             "against forget on the clear demo")
    parser.add_argument("--no-rebuild", action="store_true",
                        help="with --encrypted: time the two forgets only")
    args = parser.parse_args()
    (encrypted if args.encrypted else clear)(args)


if __name__ == "__main__":
    main()
