"""Dataset identities follow the OpenLineage naming conventions, and every store's
`dataSource.uri` is a URI the upstream schema's format checker accepts."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.lineage.openlineage_schemas import uri_errors

from afluente.lineage.dataset_naming import DatasetName, dataset_name

ROOT = Path("/srv/project")


@pytest.mark.parametrize(("location", "namespace", "name"), [
    ("landing/orders/*.csv", "file", "/srv/project/landing/orders/*.csv"),
    ("/data/in/a b.csv", "file", "/data/in/a b.csv"),
    ("/srv/project/warehouse/silver/orders", "file", "/srv/project/warehouse/silver/orders"),
    ("file:///data/warehouse/gold/t", "file", "/data/warehouse/gold/t"),
    ("s3://lake/warehouse/silver/orders", "s3://lake", "warehouse/silver/orders"),
    ("s3a://lake/raw/*.json", "s3://lake", "raw/*.json"),
    ("gcs://lake/raw/x.parquet", "gs://lake", "raw/x.parquet"),
    ("abfss://box@acct.dfs.core.windows.net/raw/x.csv",
     "abfss://box@acct.dfs.core.windows.net", "raw/x.csv"),
    ("postgres://db.example:5432/shop/orders", "postgres://db.example:5432",
     "shop.public.orders"),
    ("postgres://db.example:6543/shop/sales.orders", "postgres://db.example:6543",
     "shop.sales.orders"),
    ("mariadb://10.0.0.7:3306/shop/orders", "mysql://10.0.0.7:3306", "shop.orders"),
    ("https://ana:secret@api.example.com:8443/v1/items", "https://api.example.com:8443",
     "v1/items"),
])
def test_locations_are_named_by_the_conventions(location: str, namespace: str,
                                                name: str) -> None:
    assert dataset_name(location, ROOT) == DatasetName(namespace, name)


@pytest.mark.parametrize("location", [
    "landing/*.csv", "file:///w/t", "s3://lake/t", "postgres://h:5432/db/t",
    "abfss://box@acct.dfs.core.windows.net/raw", "https://api.example.com/v1",
])
def test_every_data_source_uri_is_a_valid_uri(location: str) -> None:
    assert uri_errors(dataset_name(location, ROOT).source_uri) == []


def test_the_schemas_check_uri_formats() -> None:
    """Format checking is on: the bare `file` namespace is no URI (it needs a scheme)."""
    assert uri_errors("file") == ["'file' is not a 'uri'"]
