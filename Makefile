# Two entry points on a fresh clone: `make demo` (or `make synth`) and `make test`.
# Every target installs what it needs first; installs are skipped when nothing changed.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# jsii and the CDK CLI run on the Node LTS pinned in package.json, not the machine's Node.
export PATH := $(CURDIR)/node_modules/.bin:$(CURDIR)/$(BIN):$(PATH)

PY_STAMP := $(VENV)/.installed
NODE_STAMP := node_modules/.installed

.PHONY: install synth demo deploy-local test lint bench docs clean

install: $(PY_STAMP) $(NODE_STAMP)

$(PY_STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@$(BIN)/python -m pip install -qq --disable-pip-version-check uv
	@# Compiled now: with PYTHONDONTWRITEBYTECODE set, every process (each test worker, the
	@# emulator, each Lambda sandbox) would otherwise compile what it imports, every time.
	@$(BIN)/uv pip install --quiet --compile-bytecode --python $(BIN)/python -e '.[dev]'
	@touch $@

$(NODE_STAMP): package.json package-lock.json
	@npm ci --no-audit --no-fund --loglevel=error
	@touch $@

## synth: synthesize app.py with the cdk-nag packs applied; fails on any unacknowledged finding
synth: install
	@npx cdk synth --quiet
	@echo "Templates written to $(CURDIR)/cdk.out (*.template.json); cdk-nag report: cdk.out/validation-report.json"

## demo: synthesize, deploy into a local AWS emulator on 127.0.0.1, and drive every flow
demo: synth
	@$(BIN)/python -m emulator.demo

## deploy-local: synthesize, then `cdk bootstrap` + `cdk deploy --app cdk.out` (the pinned CLI,
## change-set method) into a local emulator, which keeps running for more cdk commands
deploy-local: synth
	@$(BIN)/python -m emulator.cdk_cli cdk.out --stack OrdersSample

## bench: measure what the library costs against a hand-written baseline (writes bench/results.json)
bench: install
	@$(BIN)/python bench/run.py

## docs: build the HTML API reference of constructs_lib from its docstrings (build/docs/)
docs: install
	@$(BIN)/pdoc --docformat numpy --output-directory build/docs constructs_lib
	@echo "API reference written to $(CURDIR)/build/docs/index.html"

## lint: ruff on everything, strict mypy on the library, the sample stack and the emulator
lint: install
	@$(BIN)/ruff check constructs_lib orders_sample app.py emulator bench tests lambda_src
	@$(BIN)/mypy constructs_lib orders_sample emulator

## test: lint, then the whole test suite (two pytest-xdist workers: synthesis and the emulator's
## waits overlap on two cores; tests/conftest.py hands out whole modules, longest first)
test: lint
	@# The test processes keep their bytecode (git-ignored __pycache__ folders): with
	@# PYTHONDONTWRITEBYTECODE set, each worker, emulator and Lambda sandbox would compile, and
	@# pytest re-rewrite, every module of the project it imports, on every run.
	@PYTHONDONTWRITEBYTECODE= $(BIN)/python -m pytest -n 2; rc=$$?; if [ $$rc -eq 5 ]; then echo "no tests collected"; rc=0; fi; exit $$rc

clean:
	rm -rf cdk.out build .pytest_cache .mypy_cache .ruff_cache
