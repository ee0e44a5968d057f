"""Bad answers from an API: each fails the run with a message naming the endpoint and page,
and the bronze table keeps its previous Delta version."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from afluente.config import load_project
from afluente.connectors import connector_for
from afluente.errors import ConfigError

from .conftest import Api, Reply, Seen, column, failure, make_project, ok, run, version

GOOD = [{"id": 1, "v": "a"}, {"id": 2, "v": "b"}]
FAST_RETRY = "retry: {attempts: 3, backoff: 0.01, max_backoff: 0.05}"


def first_run(tmp_path: Path, api: Api, source: str) -> Path:
    """A project whose first run wrote version 0 with ids 1 and 2."""
    root = make_project(tmp_path / "p", api, source)
    ok(run(root))
    assert version(root) == 0
    return root


def assert_unchanged(root: Path) -> None:
    assert version(root) == 0
    assert column(root, "id") == [1, 2]


def test_html_answer_on_a_later_page_names_the_page_and_shows_a_snippet(
    tmp_path: Path, api: Api
) -> None:
    api.reply = lambda seen: Reply(GOOD if seen.query["page"] == "1" else [])
    root = first_run(tmp_path, api, "pagination: {style: page}")

    def reply(seen: Seen) -> Reply:
        if seen.query["page"] == "1":
            return Reply([{"id": 3, "v": "c"}])
        return Reply("<html><body><h1>Bad  Gateway</h1></body></html>", content_type="text/html")

    api.reply = reply
    reason = failure(run(root))
    assert f"GET {api.url} (page 2)" in reason
    assert "answered `text/html`, not JSON: <html><body><h1>Bad Gateway</h1>" in reason
    assert_unchanged(root)


def test_unparsable_json_is_an_error_with_a_snippet(tmp_path: Path, api: Api) -> None:
    api.reply = lambda seen: Reply(GOOD)
    root = first_run(tmp_path, api, "pagination: none")
    api.reply = lambda seen: Reply(b'{"items": [1, 2', content_type="application/json")
    reason = failure(run(root))
    assert "(page 1): the response is not valid JSON" in reason
    assert '{"items": [1, 2' in reason
    assert_unchanged(root)


def test_missing_records_path_names_the_path_and_the_keys_present(
    tmp_path: Path, api: Api
) -> None:
    api.reply = lambda seen: Reply({"data": {"items": GOOD}})
    root = first_run(tmp_path, api, "records: data.items")
    api.reply = lambda seen: Reply({"data": {"rows": GOOD, "total": 2}})
    reason = failure(run(root))
    assert "records path `data.items` not found; keys present in `data`: rows, total" in reason
    assert "set `records:`" in reason
    assert_unchanged(root)


def test_a_repeated_cursor_is_a_pagination_loop(tmp_path: Path, api: Api) -> None:
    api.reply = lambda seen: Reply({"items": GOOD, "next": None})
    root = first_run(tmp_path, api, """
        records: items
        pagination: {style: cursor, cursor_path: next}
    """)
    # the API hands back the same two cursors forever
    following = {None: "x", "x": "y", "y": "x"}
    api.reply = lambda seen: Reply(
        {"items": [{"id": len(api.seen)}], "next": following[seen.query.get("cursor")]}
    )
    reason = failure(run(root))
    assert "(page 4): pagination loop: it repeats an earlier request" in reason
    assert "cursor=x" in reason
    assert_unchanged(root)


def test_a_page_identical_to_the_previous_one_is_a_pagination_loop(
    tmp_path: Path, api: Api
) -> None:
    api.reply = lambda seen: Reply(GOOD if seen.query["page"] == "1" else [])
    root = first_run(tmp_path, api, "pagination: {style: page}")
    api.reply = lambda seen: Reply(GOOD)  # the API ignores the page parameter
    reason = failure(run(root))
    assert "(page 2): pagination loop: its records are identical to page 1" in reason
    assert_unchanged(root)


def test_max_pages_stops_an_endless_endpoint(tmp_path: Path, api: Api) -> None:
    api.reply = lambda seen: Reply(GOOD if seen.query["page"] == "1" else [])
    root = first_run(tmp_path, api, "pagination: {style: page}\nmax_pages: 3")
    api.reply = lambda seen: Reply([{"id": int(seen.query["page"])}])
    reason = failure(run(root))
    assert "(page 4): more than `max_pages` (3) pages" in reason
    assert len(api.seen) == 2 + 3
    assert_unchanged(root)


def test_500_forever_fails_after_the_retries(tmp_path: Path, api: Api) -> None:
    api.reply = lambda seen: Reply(GOOD)
    root = first_run(tmp_path, api, FAST_RETRY)
    api.reply = lambda seen: Reply({"error": "boom"}, status=500)
    reason = failure(run(root, retries=0))  # only the connector's own retries
    assert f"GET {api.url} (page 1): failed after 3 attempts; last: HTTP 500" in reason
    assert len(api.seen) == 1 + 3
    assert_unchanged(root)
    # the error stays transient: the executor retries the whole read once more
    result = run(root, retries=1)
    assert result.failed[0].attempts == 2
    assert len(api.seen) == 1 + 3 + 3 + 3
    assert_unchanged(root)


def test_401_names_the_environment_variable_to_check(
    tmp_path: Path, api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SHOP_TOKEN", "tok-very-secret")
    api.reply = lambda seen: Reply(GOOD)
    root = first_run(tmp_path, api, "auth: {type: bearer, token_env: SHOP_TOKEN}")
    api.reply = lambda seen: Reply(
        {"error": "token tok-very-secret expired"}, status=401
    )
    reason = failure(run(root))
    assert "authentication failed (HTTP 401)" in reason
    assert "check the credentials in the environment variable(s) `SHOP_TOKEN`" in reason
    assert "tok-very-secret" not in reason
    assert_unchanged(root)


def test_other_4xx_shows_the_body_with_secrets_masked(
    tmp_path: Path, api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SHOP_KEY", "key-abc-123")
    api.reply = lambda seen: Reply(GOOD)
    root = first_run(tmp_path, api, "headers_from_env: {X-Api-Key: SHOP_KEY}")
    api.reply = lambda seen: Reply({"error": "unknown filter; key=key-abc-123"}, status=400)
    reason = failure(run(root))
    assert "HTTP 400 Bad Request" in reason
    assert "key=***" in reason and "key-abc-123" not in reason
    assert_unchanged(root)


def test_a_missing_environment_variable_is_named(
    tmp_path: Path, api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("NOT_SET_TOKEN", raising=False)
    root = make_project(tmp_path / "p", api, "auth: {type: bearer, token_env: NOT_SET_TOKEN}")
    reason = failure(run(root))
    assert "environment variable `NOT_SET_TOKEN` not set" in reason
    assert api.seen == []
    assert version(root) is None


def test_an_unknown_pagination_style_is_a_config_error_with_its_line(
    tmp_path: Path, api: Api
) -> None:
    root = make_project(tmp_path / "p", api, "pagination: {style: pages}")
    project = load_project(root)
    with pytest.raises(ConfigError) as caught:
        connector_for(project, "orders")
    assert "afluente.yml:6" in str(caught.value)
    assert "pagination" in str(caught.value)


def test_network_errors_are_retried_then_reported(tmp_path: Path, api: Api) -> None:
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    port = closed.getsockname()[1]
    closed.close()  # nothing listens there now
    api.url = f"http://127.0.0.1:{port}"
    root = make_project(tmp_path / "p", api, FAST_RETRY)
    reason = failure(run(root))
    assert f"GET http://127.0.0.1:{port} (page 1): failed after 3 attempts; last: " in reason
    assert "network error ConnectError" in reason
    assert version(root) is None
