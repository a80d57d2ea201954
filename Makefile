# Every target bootstraps its own environment: a fresh machine needs only python3 and the package registries.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install demo test lint typecheck unit bench sandbox clean

$(STAMP): pyproject.toml distributions/calendly-sandbox/pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]' -e ./distributions/calendly-sandbox
	touch $(STAMP)

install: $(STAMP)

## The main job: sandbox -> tap-calendly -> DuckDB, analyst questions, reverse ETL through target-calendly.
demo: $(STAMP)
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/python -m demo.run

## The whole suite: lint, types, unit + integration + end-to-end (real meltano run) tests.
test: lint typecheck unit

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy

unit: $(STAMP)
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/pytest

bench: $(STAMP)
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/python -m bench.run

## A local Calendly API on its own (Ctrl-C stops it); sample_config.json points at it.
sandbox: $(STAMP)
	$(BIN)/calendly-sandbox --port 8080

clean:
	rm -rf $(VENV) .meltano output
