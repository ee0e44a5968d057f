"""REST sources end to end: `run_project` against a real local HTTP server."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pytest

from .conftest import Api, Reply, Seen, bronze, column, make_project, ok, run, version

ITEMS = [{"id": i, "name": f"item {i}"} for i in range(1, 6)]
FAST_RETRY = "retry: {attempts: 3, backoff: 0.01, max_backoff: 0.05}"


def test_page_pagination_reads_every_page_at_the_records_path(tmp_path: Path, api: Api) -> None:
    def reply(seen: Seen) -> Reply:
        page, size = int(seen.query["page"]), int(seen.query["per_page"])
        items = ITEMS[(page - 1) * size : page * size]
        return Reply({"data": {"items": items, "page": page}})

    api.reply = reply
    root = make_project(tmp_path / "p", api, """
        endpoint: /v1/orders
        params: {status: open}
        records: data.items
        pagination: {style: page, param: page, size_param: per_page, size: 2}
    """)
    result = run(root)
    assert result.status == "success"
    assert result.models[0].rows == 5
    assert api.queries("page") == ["1", "2", "3", "4"]
    assert set(api.queries("status")) == {"open"}
    assert {s.path for s in api.seen} == {"/v1/orders"}
    assert column(root, "id") == [1, 2, 3, 4, 5]
    assert column(root, "_source") == [
        f"{api.url}/v1/orders#page={n}" for n in (1, 1, 2, 2, 3)
    ]


def test_offset_pagination_advances_by_the_records_received(tmp_path: Path, api: Api) -> None:
    def reply(seen: Seen) -> Reply:
        offset = int(seen.query["offset"])
        return Reply(ITEMS[offset : offset + min(int(seen.query["limit"]), 2)])

    api.reply = reply
    root = make_project(tmp_path / "p", api, "pagination: {style: offset, limit: 3}")
    ok(run(root))
    # the server caps pages at 2 records: offsets follow what was received, not the limit
    assert api.queries("offset") == ["0", "2", "4", "5"]
    assert column(root, "id") == [1, 2, 3, 4, 5]


def test_cursor_pagination_sends_the_token_read_from_the_response(
    tmp_path: Path, api: Api
) -> None:
    tokens = {None: ("a", ITEMS[:2]), "a": ("b", ITEMS[2:4]), "b": (None, ITEMS[4:])}

    def reply(seen: Seen) -> Reply:
        following, items = tokens[seen.query.get("after")]
        return Reply({"results": items, "meta": {"next": following}})

    api.reply = reply
    root = make_project(tmp_path / "p", api, """
        records: results
        pagination: {style: cursor, cursor_path: meta.next, param: after}
    """)
    ok(run(root))
    assert api.queries("after") == [None, "a", "b"]
    assert column(root, "id") == [1, 2, 3, 4, 5]


def test_link_pagination_follows_the_next_link(tmp_path: Path, api: Api) -> None:
    def reply(seen: Seen) -> Reply:
        page = int(seen.query.get("p", "1"))
        headers = {}
        if page < 3:
            headers["Link"] = f'</items?p={page + 1}>; rel="next", </items?p=1>; rel="first"'
        return Reply(ITEMS[(page - 1) * 2 : page * 2], headers=headers)

    api.reply = reply
    root = make_project(tmp_path / "p", api, """
        endpoint: items
        params: {per_page: 2}
        pagination: link
    """)
    ok(run(root))
    assert api.queries("p") == [None, "2", "3"]
    assert api.queries("per_page") == ["2", None, None]  # the link carries the query
    assert column(root, "id") == [1, 2, 3, 4, 5]


def test_nested_objects_are_kept_as_structs(tmp_path: Path, api: Api) -> None:
    api.reply = lambda seen: Reply([
        {"id": 1, "customer": {"name": "Ana", "address": {"uf": "SP"}}, "tags": ["a", "b"]},
        {"id": 2, "customer": {"name": "Bia", "vip": True}, "tags": []},
    ])
    root = make_project(tmp_path / "p", api, "pagination: none")
    ok(run(root))
    table = bronze(root).sort_by("id")
    customer = table.schema.field("customer").type
    assert pa.types.is_struct(customer)
    assert table.schema.field("tags").type == pa.list_(pa.string())
    assert table.column("customer").to_pylist() == [
        {"name": "Ana", "address": {"uf": "SP"}, "vip": None},
        {"name": "Bia", "address": None, "vip": True},
    ]
    assert table.column("_rescued_data").to_pylist() == [None, None]


def test_a_type_conflict_on_a_later_page_is_rescued_not_lost(tmp_path: Path, api: Api) -> None:
    pages = {
        "1": [{"id": 1, "qty": 10}, {"id": 2, "qty": 20}],
        "2": [{"id": 3, "qty": "lots", "note": "new key"}],
        "3": [],
    }
    api.reply = lambda seen: Reply(pages[seen.query["page"]])
    root = make_project(tmp_path / "p", api, """
        batch_size: 2
        pagination: {style: page}
    """)
    ok(run(root))
    assert bronze(root).schema.field("qty").type == pa.int64()
    assert column(root, "qty") == [10, 20, None]
    rescued = column(root, "_rescued_data")
    assert rescued[:2] == [None, None]
    assert rescued[2] is not None and json.loads(rescued[2]) == {
        "qty": "lots", "note": "new key"
    }


def test_auth_headers_come_from_the_environment(
    tmp_path: Path, api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SHOP_TOKEN", "s3cret-token")
    monkeypatch.setenv("SHOP_KEY", "k-123")
    api.reply = lambda seen: Reply(ITEMS[:1])
    root = make_project(tmp_path / "p", api, """
        auth: {type: bearer, token_env: SHOP_TOKEN}
        headers_from_env: {X-Api-Key: SHOP_KEY}
        headers: {X-Client: afluente-tests}
    """)
    ok(run(root))
    (seen,) = api.seen
    assert seen.headers["authorization"] == "Bearer s3cret-token"
    assert seen.headers["x-api-key"] == "k-123"
    assert seen.headers["x-client"] == "afluente-tests"
    assert "s3cret-token" not in (tmp_path / "p" / "afluente.yml").read_text()


def test_503_is_retried_then_succeeds(tmp_path: Path, api: Api) -> None:
    def reply(seen: Seen) -> Reply:
        if len(api.seen) <= 2:
            return Reply({"error": "busy"}, status=503)
        return Reply(ITEMS)

    api.reply = reply
    root = make_project(tmp_path / "p", api, FAST_RETRY)
    ok(run(root))
    assert len(api.seen) == 3
    assert column(root, "id") == [1, 2, 3, 4, 5]


def test_429_waits_as_long_as_retry_after_says(tmp_path: Path, api: Api) -> None:
    def reply(seen: Seen) -> Reply:
        if len(api.seen) == 1:
            return Reply({"error": "slow down"}, status=429, headers={"Retry-After": "1"})
        return Reply(ITEMS)

    api.reply = reply
    # the backoff alone would retry after 0.01 s: only Retry-After explains a 1 s wait
    root = make_project(tmp_path / "p", api, FAST_RETRY)
    ok(run(root))
    first, second = api.seen
    assert second.at - first.at >= 1.0
    assert len(column(root, "id")) == 5


def test_incremental_runs_ask_since_the_watermark_and_append_only_new_rows(
    tmp_path: Path, api: Api
) -> None:
    rows = [
        {"id": 1, "updated_at": "2024-01-02T00:00:00Z"},
        {"id": 2, "updated_at": "2024-01-03T00:00:00Z"},
    ]

    def reply(seen: Seen) -> Reply:  # inclusive, like many APIs: updated_at >= since
        since = seen.query["updated_since"]
        return Reply({"items": [r for r in rows if r["updated_at"] >= since]})

    api.reply = reply
    root = make_project(tmp_path / "p", api, """
        records: items
        incremental:
          cursor_field: updated_at
          param: updated_since
          initial: "2024-01-01T00:00:00Z"
    """)
    ok(run(root))
    assert api.queries("updated_since") == ["2024-01-01T00:00:00Z"]
    assert version(root) == 0

    rows.append({"id": 3, "updated_at": "2024-01-04T00:00:00Z"})
    second = run(root)
    assert (second.models[0].status, second.models[0].rows) == ("success", 1)
    assert api.queries("updated_since")[-1] == "2024-01-03T00:00:00Z"
    assert version(root) == 1
    assert column(root, "id") == [1, 2, 3]

    third = run(root)  # the server answers id 3 again (inclusive): it is not new
    assert third.status == "success"
    assert api.queries("updated_since")[-1] == "2024-01-04T00:00:00Z"
    assert version(root) == 1
    assert column(root, "id") == [1, 2, 3]


def test_incremental_full_refresh_starts_from_the_initial_watermark(
    tmp_path: Path, api: Api
) -> None:
    api.reply = lambda seen: Reply([{"id": 1, "ts": 5}, {"id": 2, "ts": 7}])
    root = make_project(tmp_path / "p", api, """
        incremental: {cursor_field: ts, param: since, initial: 0}
    """)
    run(root)
    ok(run(root))  # nothing new at ts 7
    assert version(root) == 0
    assert run(root, full_refresh=True).status == "success"
    assert api.queries("since") == ["0", "7", "0"]
    assert version(root) == 1
    assert column(root, "id") == [1, 2]
