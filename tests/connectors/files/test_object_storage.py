"""`path: s3://...` against a real S3-compatible server (moto) started by a fixture."""

from __future__ import annotations

import itertools
import re
import textwrap
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from afluente.config import load_project
from afluente.connectors import connector_for
from afluente.connectors.files.object_storage import glob_regex
from afluente.model import TableRef
from conftest import require_component

from .conftest import FilesProject, failure

_buckets = itertools.count()


@dataclass(frozen=True)
class S3:
    endpoint: str
    client: Any
    bucket: str

    def put(self, key: str, body: bytes) -> None:
        self.client.put_object(Bucket=self.bucket, Key=key, Body=body)


@pytest.fixture(scope="module")
def s3_server() -> Iterator[str]:
    try:
        from moto.server import ThreadedMotoServer
    except ImportError as exc:
        require_component("moto", str(exc))
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def s3(s3_server: str, monkeypatch: pytest.MonkeyPatch) -> S3:
    import boto3

    monkeypatch.setenv("TEST_S3_KEY", "testing-key")
    monkeypatch.setenv("TEST_S3_SECRET", "testing-secret")
    client = boto3.client(
        "s3", endpoint_url=s3_server, region_name="us-east-1",
        aws_access_key_id="testing-key", aws_secret_access_key="testing-secret",
    )
    bucket = f"landing-{next(_buckets)}"
    client.create_bucket(Bucket=bucket)
    return S3(s3_server, client, bucket)


def s3_source(
    project: FilesProject, s3: S3, pattern: str, allow_http: bool = True, extra: str = ""
) -> None:
    project.source(textwrap.dedent(f"""\
        path: s3://{pattern if pattern.startswith("no-such") else s3.bucket + "/" + pattern}
        storage_options:
          endpoint_url: {s3.endpoint}
          region: us-east-1
          access_key_id: ${{TEST_S3_KEY}}
          secret_access_key: ${{TEST_S3_SECRET}}
          allow_http: {str(allow_http).lower()}
    """) + extra)


def test_s3_files_are_ingested_once_each(files_project: FilesProject, s3: S3) -> None:
    s3_source(files_project, s3, "orders/*.csv")
    s3.put("orders/1.csv", b"id,amount\n1,10\n2,20\n")
    s3.put("orders/sub/skip.csv", b"id,amount\n99,0\n")  # `*` stays in one folder
    s3.put("other/3.csv", b"id,amount\n98,0\n")

    assert files_project.run().status == "success"
    uri = f"s3://{s3.bucket}/orders/1.csv"
    assert files_project.rows("id", "amount", "_source") == [("1", "10", uri), ("2", "20", uri)]

    s3.put("orders/2.csv", b"id,amount\n3,30\n")
    connector = connector_for(load_project(files_project.root), "s")
    recorded = files_project.warehouse.progress_history(TableRef("bronze", "s"))
    assert connector.check(recorded).pending == 1  # what `afluente plan` shows
    result = files_project.run()
    assert result.status == "success"
    assert files_project.version() == 1
    history = files_project.warehouse.history(TableRef("bronze", "s"))
    assert history[0].rows_added == 1  # only the new file
    assert [r[0] for r in files_project.rows("id")] == ["1", "2", "3"]
    assert files_project.run().models[0].status == "up_to_date"


def test_s3_cp1252_and_malformed_lines(files_project: FilesProject, s3: S3) -> None:
    s3_source(files_project, s3, "w/*.csv", extra="options: {encoding: cp1252}\n")
    s3.put("w/a.csv", "id,v\n1,café €\n2,x,y\n".encode("cp1252"))
    assert files_project.run().status == "success"
    rows = files_project.rows("id", "v", "_rescued_data")
    assert rows[1] == ("1", "café €", None)
    assert '"_raw":"2,x,y"' in rows[0][2]


def test_plain_http_endpoint_needs_allow_http(files_project: FilesProject, s3: S3) -> None:
    s3_source(files_project, s3, "*.csv", allow_http=False)
    s3.put("a.csv", b"id\n1\n")
    reason = failure(files_project.run())
    assert "is plain http" in reason
    assert "allow_http: true" in reason
    assert "testing-secret" not in reason


def test_missing_bucket_is_a_clear_error(files_project: FilesProject, s3: S3) -> None:
    s3_source(files_project, s3, "no-such-bucket/*.csv")
    reason = failure(files_project.run())
    assert "cannot list s3://no-such-bucket/*.csv" in reason
    assert "testing-secret" not in reason


@pytest.mark.parametrize(
    ("pattern", "path", "matches"),
    [
        ("b/in/*.csv", "b/in/a.csv", True),
        ("b/in/*.csv", "b/in/x/a.csv", False),
        ("b/in/**/*.csv", "b/in/x/y/a.csv", True),
        ("b/in/**/*.csv", "b/in/a.csv", True),
        ("b/in/f?.csv", "b/in/f1.csv", True),
        ("b/in/[!x]*.csv", "b/in/xa.csv", False),
        ("b/a+b.csv", "b/a+b.csv", True),
    ],
)
def test_glob_regex(pattern: str, path: str, matches: bool) -> None:
    assert bool(re.fullmatch(glob_regex(pattern), path)) is matches
