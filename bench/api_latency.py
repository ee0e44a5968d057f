"""The REST API under `afluente serve` (issue 16, RESULTS §30).

1. Metadata endpoints at 20 concurrent clients (httpx async) against the demo: each client
   sends `--requests` requests cycling over the endpoints; p50/p95 per endpoint and overall.
2. Rows pages over a large table (`silver.big`, `--big-rows` rows built by a SQL model):
   the latency of a 100-row page at the start, the middle and the end, each read `--repeat`
   times (the server pushes LIMIT/OFFSET into DuckDB over the pinned version; the table is
   never loaded whole) and the server's peak memory.

    PYTHONPATH=src python bench/api_latency.py --orders 2000 --big-rows 10000000
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

from afluente.config import load_project
from afluente.demo.build import prepare_demo
from afluente.governance.identity import create_token
from afluente.runtime import run_project
from afluente.state.access_state import AccessStore

ENDPOINTS = ["/api/projects", "/api/models", "/api/graph", "/api/runs", "/api/runs/{run}",
             "/api/tables/gold.fct_orders/schema", "/api/tables/gold.fct_orders/history",
             "/api/models/gold.fct_orders", "/api/schedules", "/api/incidents",
             "/api/events?limit=50"]
BIG_MODEL = """select range as id, range % 97 as k, md5(range::varchar) as h,
       date '2020-01-01' + (range % 1500)::integer as day
from range({rows})
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def admin_token(root: Path) -> str:
    project = load_project(root)
    with AccessStore.open(project.state_url) as store:
        store.grant("platform", "ADMIN", "project", "bench")
        return create_token(store, "service:bench", "platform", "bench")


def serve(root: Path, wait_s: float = 180) -> tuple[subprocess.Popen[bytes], str]:
    """`afluente serve` on `root` in a process of its own, once its /health answers."""
    port = free_port()
    process = subprocess.Popen([sys.executable, "-m", "afluente", "-p", str(root), "serve",
                                "--port", str(port)], stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + wait_s
    while time.monotonic() < deadline:
        try:
            httpx.get(f"{url}/health", timeout=1)
            return process, url
        except httpx.TransportError:
            time.sleep(0.2)
    process.kill()
    raise SystemExit("the server did not start")


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


async def metadata_load(url: str, token: str, clients: int, requests: int, run: str
                        ) -> dict[str, list[float]]:
    seen: dict[str, list[float]] = {e: [] for e in ENDPOINTS}
    headers = {"Authorization": f"Bearer {token}"}

    async def client(offset: int) -> None:
        async with httpx.AsyncClient(base_url=url, headers=headers, timeout=60) as http:
            for i in range(requests):
                endpoint = ENDPOINTS[(offset + i) % len(ENDPOINTS)]
                began = time.perf_counter()
                answer = await http.get(endpoint.replace("{run}", run))
                seen[endpoint].append(time.perf_counter() - began)
                assert answer.status_code == 200, (endpoint, answer.text[:300])

    await asyncio.gather(*(client(n) for n in range(clients)))
    return seen


def part_metadata(work: Path, orders: int, clients: int, requests: int) -> dict[str, object]:
    root = work / "demo"
    prepare_demo(root, orders=orders)
    assert run_project(load_project(root)).status == "success"
    token = admin_token(root)
    process, url = serve(root)
    try:
        run = httpx.get(f"{url}/api/runs", headers={"Authorization": f"Bearer {token}"}
                        ).json()[0]["run_id"]
        asyncio.run(metadata_load(url, token, clients, 2, run))  # warm-up
        seen = asyncio.run(metadata_load(url, token, clients, requests, run))
    finally:
        process.terminate()
        process.wait()
    every = [s for values in seen.values() for s in values]
    return {"clients": clients, "requests": len(every),
            "overall_ms": {"p50": 1000 * pct(every, .5), "p95": 1000 * pct(every, .95)},
            "per_endpoint_ms": {e: {"p50": round(1000 * pct(v, .5), 1),
                                    "p95": round(1000 * pct(v, .95), 1)}
                                for e, v in seen.items()}}


def part_rows(work: Path, rows: int, repeat: int) -> dict[str, object]:
    root = work / "big"
    (root / "models" / "silver").mkdir(parents=True)
    (root / "afluente.yml").write_text("name: big_table\nwarehouse: warehouse\n")
    (root / "models" / "silver" / "big.sql").write_text(BIG_MODEL.format(rows=rows))
    began = time.perf_counter()
    assert run_project(load_project(root)).status == "success"
    built = time.perf_counter() - began
    token = admin_token(root)
    process, url = serve(root)
    pages: dict[str, list[float]] = {}
    try:
        headers = {"Authorization": f"Bearer {token}"}
        with httpx.Client(base_url=url, headers=headers, timeout=600) as http:
            http.get("/api/tables/silver.big/rows", params={"limit": 1})  # warm-up
            for _ in range(repeat):
                for name, offset in (("first", 0), ("middle", rows // 2),
                                     ("last", rows - 100)):
                    began = time.perf_counter()
                    page = http.get("/api/tables/silver.big/rows",
                                    params={"limit": 100, "offset": offset}).json()
                    pages.setdefault(name, []).append(time.perf_counter() - began)
                    assert page["rows"][0]["id"] == offset, page["rows"][:1]
        peak = _peak_rss_mib(process.pid)
    finally:
        process.terminate()
        process.wait()
    return {"rows": rows, "build_s": round(built, 1), "repeat": repeat,
            "page_ms_median": {k: round(1000 * statistics.median(v), 1)
                               for k, v in pages.items()},
            "server_peak_rss_mib": peak}


def _peak_rss_mib(pid: int) -> float | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        return None
    return None


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--orders", type=int, default=2000)
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--requests", type=int, default=25, help="Per client.")
    parser.add_argument("--big-rows", type=int, default=10_000_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    load = os.getloadavg()
    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder)
        result = {"load_before": load,
                  "metadata": part_metadata(work, args.orders, args.clients, args.requests),
                  "rows_pages": part_rows(work, args.big_rows, args.repeat),
                  "load_after": os.getloadavg()}
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
