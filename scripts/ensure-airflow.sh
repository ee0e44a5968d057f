#!/usr/bin/env bash
# Make sure a separate virtualenv with Apache Airflow exists for the Airflow export tests.
# Airflow pins many libraries (SQLAlchemy, pydantic, ...) that clash with afluente's own, so it
# lives in its own venv (.venv-airflow/ by default) and is only ever run as a subprocess.
# Idempotent: a stamp file records the installed version; a second call is a no-op.
# Usage: scripts/ensure-airflow.sh [VENV_DIR]   (prints the venv's python path on stdout)
set -euo pipefail

AIRFLOW_VERSION="${AIRFLOW_VERSION:-3.3.2}"
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
VENV="${1:-${AFLUENTE_AIRFLOW_VENV:-$ROOT/.venv-airflow}}"
PYTHON="${PYTHON:-python3}"
STAMP="$VENV/.airflow-stamp"
WANT="apache-airflow==$AIRFLOW_VERSION"

if [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$WANT" ] && [ -x "$VENV/bin/airflow" ]; then
  echo "$VENV/bin/python"
  exit 0
fi

echo "installing $WANT into $VENV (first time only; about half a minute from PyPI)" >&2
rm -f "$STAMP"
"$PYTHON" -m venv "$VENV" >&2
"$VENV/bin/python" -m pip install --quiet --upgrade pip >&2
"$VENV/bin/python" -m pip install --quiet "$WANT" >&2
"$VENV/bin/python" -c 'import airflow, airflow.providers.standard.operators.bash' >&2
echo "$WANT" > "$STAMP"
echo "$VENV/bin/python"
