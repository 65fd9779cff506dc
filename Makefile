# serverless-sqlalchemy — every command bootstraps what it needs (a .venv from pinned requirements).
# Quick start:  make compare   (the main job)     make test   (the checks CI runs)

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.DEFAULT_GOAL := help
.PHONY: help venv pgbouncer test lint typecheck unit integration compare emulate bench pitfalls faults sam-validate sam-build sam-check docker-check clean

help:  ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed 's/:.*## /\t/' | expand -t 16

$(STAMP): requirements/dev.txt requirements/constraints.txt pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11 or newer is needed: set PYTHON=/path/to/python3.11")'
	@echo "==> creating $(VENV) with $$($(PYTHON) --version)"
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements/dev.txt -c requirements/constraints.txt
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e . 2>/dev/null \
		|| $(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps -e .
	@touch $(STAMP)

venv: $(STAMP) pgbouncer  ## create .venv (pinned packages) and install pgbouncer where possible

pgbouncer:  ## install PgBouncer from the OS packages when root on Debian (optional: tests that need it skip)
	@bash scripts/ensure-pgbouncer.sh

lint: $(STAMP)  ## ruff (lint and format)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)  ## mypy (strict) on the layer, the functions and the harness
	$(BIN)/mypy

unit: $(STAMP)  ## unit tests only
	$(BIN)/pytest tests/unit

integration: venv  ## integration tests only (real Postgres)
	$(BIN)/pytest tests/integration

test: venv lint typecheck sam-check  ## everything CI runs: ruff, mypy, the SAM checks, unit and integration tests
	$(BIN)/pytest

sam-check:  ## sam validate --lint, cfn-lint (serverless rules) and sam build, offline, in their own .venv-sam
	bash scripts/sam-check.sh

docker-check: venv  ## the Docker path end to end: compose, sam build, sam local invoke/start-api/start-lambda (root: installs Docker)
	bash scripts/docker/check.sh

compare: venv  ## the main job: connection strategies side by side under concurrent Lambda load
	$(BIN)/harness compare $(ARGS)

emulate: venv  ## the template's functions as a local Lambda: Invoke API :3001, HTTP API :3000 (no Docker)
	$(BIN)/harness emulate $(ARGS)

bench: venv  ## benchmarks; figures go to docs/benchmarks.md
	$(BIN)/harness bench $(ARGS)

pitfalls: venv  ## every connection pitfall reproduced (the exact error text), then its fix shown holding
	$(BIN)/harness pitfalls $(ARGS)

faults: venv  ## faults injected under steady writes; every acknowledged write checked against the table
	$(BIN)/harness faults $(ARGS)

clean:  ## remove the virtualenvs, build output and reports
	rm -rf $(VENV) .venv-sam .aws-sam .pytest_cache .mypy_cache .ruff_cache reports
