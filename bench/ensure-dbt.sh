#!/usr/bin/env bash
# Create bench/.data/venv-dbt (git-ignored) with dbt-core 1.11 and dbt-duckdb, for bench/orchestration.py.
# dbt lives in its own virtualenv: its pins conflict with the project's .venv, and dbt-core 1.12
# does not build here. DuckDB is pinned to the version afluente's .venv uses, so both tools run
# the same engine. Idempotent: does nothing when the venv already answers `dbt --version`.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
venv="${DBT_VENV:-$here/.data/venv-dbt}"
python="${PYTHON:-python3}"
main_python="$here/../.venv/bin/python"
duckdb_pin=""
if [ -x "$main_python" ]; then
  duckdb_pin="duckdb==$("$main_python" -c 'import duckdb; print(duckdb.__version__)')"
fi

if [ -x "$venv/bin/dbt" ] && "$venv/bin/dbt" --version >/dev/null 2>&1; then
  exit 0
fi
echo "creating $venv (dbt-core 1.11, dbt-duckdb${duckdb_pin:+, $duckdb_pin})" >&2
"$python" -m venv "$venv"
"$venv/bin/python" -m pip install --quiet --upgrade pip
"$venv/bin/python" -m pip install --quiet 'dbt-core==1.11.*' 'dbt-duckdb==1.11.*' $duckdb_pin
"$venv/bin/dbt" --version >&2
