"""What the commands write: CSV with `\\n` line endings, where an HTML page went, and each
error once."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from tests.cli.test_errors_cli import afluente

from afluente.cli.scaffold import scaffold


@pytest.fixture
def shop(tmp_path: Path) -> Path:
    root = tmp_path.resolve() / "shop"
    scaffold(root)
    return root


def test_query_csv_uses_newline_line_endings(shop: Path) -> None:
    sql = "SELECT * FROM (VALUES (1, 'a,b'), (2, 'c')) AS t(n, s) ORDER BY n"

    result = subprocess.run(  # bytes: text mode would hide a \r
        [sys.executable, "-m", "afluente", "-p", str(shop), "query", sql, "--format", "csv"],
        capture_output=True, check=False, timeout=60,
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout == b'n,s\n1,"a,b"\n2,c\n'


def test_quality_html_says_where_it_wrote(shop: Path, tmp_path: Path) -> None:
    (tmp_path / "reports").mkdir()

    text = afluente("-p", str(shop), "quality", "--html", str(tmp_path / "reports/q.html"))
    machine = afluente("-p", str(shop), "--json", "quality", "--html",
                       str(tmp_path / "reports/j.html"))

    assert text.returncode == 0, text.stderr
    assert text.stdout.splitlines()[-1] == f"wrote {tmp_path / 'reports/q.html'}"
    assert "<html" in (tmp_path / "reports/q.html").read_text()
    assert json.loads(machine.stdout)["html"] == str(tmp_path / "reports/j.html")


def test_quality_html_into_a_missing_folder_is_one_clear_error(
    shop: Path, tmp_path: Path
) -> None:
    target = tmp_path / "missing" / "q.html"

    result = afluente("-p", str(shop), "quality", "--html", str(target))

    assert result.returncode == 1
    assert result.stderr == (
        f"error: cannot write the HTML page to {target}: No such file or directory\n"
        "  hint: pass --html a file path in a folder that exists and that you can write to\n"
    )


def test_a_failed_model_is_explained_once(shop: Path) -> None:
    (shop / "models/gold/broken.sql").write_text("SELECT nope FROM silver.orders\n")

    result = afluente("-p", str(shop), "run")

    assert result.returncode == 1
    everything = result.stdout + result.stderr
    assert everything.count('"nope" not found') == 1
    assert result.stderr.startswith(
        f"error: gold.broken failed: {shop / 'models/gold/broken.sql'}:1:8: "
    )
