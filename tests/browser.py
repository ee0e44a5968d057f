"""Headless Chromium for tests of the HTML afluente writes: open a page, return its DOM after
the browser has parsed (and, for pages with scripts, run) it."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from tests.conftest import require_component


def chromium() -> str:
    """The Chromium binary; skips the test (fails it in CI) when there is none."""
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    require_component("chromium", "install it with `apt-get install chromium` "
                      "(scripts/ensure-components.sh)")


def dump_dom(url: str, scratch: Path) -> str:
    """The DOM of `url` as Chromium serializes it (`--dump-dom`); `scratch` holds the
    throwaway browser profile."""
    return dump_dom_and_console(url, scratch)[0]


def dump_dom_and_console(url: str, scratch: Path) -> tuple[str, list[str]]:
    """`dump_dom`, and what the page wrote to its console (messages and uncaught errors)."""
    done = subprocess.run(
        [chromium(), "--headless", "--no-sandbox", "--disable-gpu",
         "--disable-background-networking", "--disable-component-update", "--no-first-run",
         "--enable-logging=stderr", "--v=0",
         f"--user-data-dir={scratch / 'profile'}", "--dump-dom", url],
        capture_output=True, text=True, timeout=120, check=False,
        env={**os.environ, "HOME": str(scratch)},
    )
    assert done.returncode == 0, done.stderr[-2000:]
    console = [line for line in done.stderr.splitlines() if ":CONSOLE" in line]
    return done.stdout, console
