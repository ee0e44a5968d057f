"""One small demo build served by a real uvicorn on 127.0.0.1 (a free port) for the whole
session, with an ADMIN token, an analyst token and a token of a role without grants."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from tests.server.live import serving

from afluente.config import load_project
from afluente.demo.build import prepare_demo
from afluente.governance.identity import create_token
from afluente.runtime import run_project
from afluente.state.access_state import AccessStore

MASK_KEY = "server-tests-mask-key"


@dataclass(frozen=True)
class Served:
    root: Path
    url: str
    tokens: dict[str, str]  # admin, analyst, nobody

    def client(self, who: str = "admin", **kwargs: object) -> httpx.Client:
        headers = {"Authorization": f"Bearer {self.tokens[who]}"} if who else {}
        return httpx.Client(base_url=self.url, headers=headers, timeout=120,
                            **kwargs)  # type: ignore[arg-type]



@pytest.fixture(scope="session")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    root = tmp_path_factory.mktemp("served") / "shop"
    prepare_demo(root, orders=120, seed=5)
    project = load_project(root)
    assert run_project(project).status == "success"
    with AccessStore.open(project.state_url) as store:
        store.grant("platform", "ADMIN", "project", "tests")
        tokens = {"admin": create_token(store, "service:ops", "platform", "tests"),
                  "analyst": create_token(store, "service:bi", "analyst", "tests"),
                  "nobody": create_token(store, "service:nobody", "nobody", "tests")}
    mp = pytest.MonkeyPatch()
    mp.setenv("AFLUENTE_MASK_KEY", MASK_KEY)  # the analyst's hmac mask, in runs started too
    try:
        with serving(root) as url:
            yield Served(root, url, tokens)
    finally:
        mp.undo()
