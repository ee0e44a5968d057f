"""The UI's pipeline graph page for a 1,000-model project in headless Chromium (issue 16,
RESULTS §37).

Two generated projects (bench/plan_validate.py's generator: 10 sources, silver and gold SQL
models reading 1-3 upstream tables; not run, so every node is `never` built) are served by
`afluente serve` in their own processes. One system Chromium (Playwright, never `playwright
install`) signs in to each and loads `/ui/` alternately, `--repeat` times each: per load,
the navigation's load event (ms from its start), the first frame painted after it (the SVG
laid out and drawn), the server's share (request start to response end), the browser's
share (first frame minus the server's share) and the page size. Medians per project. The
server keeps the graph and the freshness of every table 10 s (ServerContext.ttl_s), so a
load may or may not recompute them: the server's share varies with that, the browser's
does not.

    PYTHONPATH=src python bench/ui_graph.py --models 1000 --reference 100 --repeat 7
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import DATA_DIR, environment, write_result
from api_latency import admin_token, serve
from plan_validate import generate_project

TIMING = """async () => {
  await new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)));
  const nav = performance.getEntriesByType('navigation')[0];
  return {load_ms: nav.loadEventEnd, frame_ms: performance.now(),
          server_ms: nav.responseEnd - nav.requestStart, bytes: nav.transferSize,
          nodes: document.querySelectorAll('#pipeline .node').length};
}"""


def signed_in(browser: Any, url: str, token: str) -> Any:
    page = browser.new_context(viewport={"width": 1366, "height": 820}).new_page()
    page.set_default_timeout(600_000)  # a loaded machine: the first page computes freshness
    page.goto(f"{url}/ui/login")
    page.fill("#token", token)
    page.click("button[type=submit]")
    page.wait_for_url(f"{url}/ui/", timeout=300_000)
    return page


def median_of(loads: list[dict[str, float]]) -> dict[str, float]:
    found = {key: round(statistics.median(x[key] for x in loads), 1) for key in loads[0]}
    found["browser_ms"] = round(statistics.median(x["frame_ms"] - x["server_ms"]
                                                  for x in loads), 1)
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", type=int, default=1000)
    parser.add_argument("--reference", type=int, default=100)
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    roots = {n: DATA_DIR / f"ui_graph_{n}" for n in (args.models, args.reference)}
    servers = {}
    for n, root in roots.items():
        generate_project(root, n)
        servers[n] = (*serve(root), admin_token(root))
    env = environment()
    loads: dict[int, list[dict[str, float]]] = {n: [] for n in roots}
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=shutil.which("chromium") or "/usr/bin/chromium",
                args=["--no-sandbox", "--disable-gpu"])
            pages = {n: signed_in(browser, url, token) for n, (_, url, token) in servers.items()}
            for _ in range(args.repeat):  # alternating: the same moment of load for both
                for n, page in pages.items():
                    page.goto(f"{servers[n][1]}/ui/", wait_until="load")
                    loads[n].append(page.evaluate(TIMING))
            browser.close()
    finally:
        for process, _, _ in servers.values():
            process.terminate()
            process.wait(30)
    result = {"environment": env, "load_average_at_end": list(os.getloadavg()),
              "medians": {str(n): median_of(v) for n, v in loads.items()},
              "loads": {str(n): v for n, v in loads.items()}}
    write_result("ui_graph", result)
    print(json.dumps({"medians": result["medians"], "load": [env["load_average_at_start"],
                                                             result["load_average_at_end"]]},
                     indent=2))


if __name__ == "__main__":
    main()
